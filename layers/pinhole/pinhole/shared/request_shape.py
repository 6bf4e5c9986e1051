"""What every request must look like before a route reads it (API.md "Next wave"), and which methods a
path answers.

- A body is JSON: `application/json` or `application/<anything>+json`, with any parameters (RFC 8259
  defines no `charset` for JSON, so one is ignored). A body sent without a Content-Type is read as JSON,
  the API's only format; any other declared type is 415 `unsupported_media_type`.
- A JSON body is UTF-8 (RFC 8259 8.1): one that is not is 422 `json_invalid`, as JSON that does not parse,
  rather than read with its bad bytes replaced (U+FFFD stored where the client sent something else).
- A route that takes no body refuses one (422), rather than ignoring what the client meant to say.
- A route whose body is an object refuses a JSON array (422), whatever its first element is.
- A query parameter the route does not declare is refused (422), as a body property it does not name is.
- A path the API knows, asked with a method it does not answer, is 405 `method_not_allowed` with `Allow`.
"""

from __future__ import annotations

import base64
import binascii
import re
import types
from collections.abc import Iterable, Mapping
from typing import Any, Union, get_args, get_origin

from pinhole.shared.errors import MethodNotAllowed, UnsupportedMediaType, ValidationFailed

_ARRAY_TYPES = (list, tuple, set, frozenset)
_PATH_PARAMETER = re.compile(r"\{[^/{}]+\}|<[^/<>]+>")  # OpenAPI `{name}`, Powertools `<name>`


def media_type(content_type: str) -> str:
    """`application/json` of `Application/JSON; charset=utf-8`."""
    return content_type.split(";", 1)[0].strip().lower()


def is_json(content_type: str | None) -> bool:
    """Whether a body of this Content-Type is JSON; an absent header counts as JSON (see the module)."""
    if content_type is None or not content_type.strip():
        return True
    kind = media_type(content_type)
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


def body_bytes(body: str | None, is_base64_encoded: bool) -> bytes:
    """The body's bytes as the client sent them. API Gateway passes a body of a text type as a string and any
    other base64-encoded; a text body that is not UTF-8 can only travel base64-encoded (the local cloud sends
    it so, docs/LOCAL_CLOUD.md). A string holding a lone surrogate, which no UTF-8 encodes (an event's JSON can
    escape one), keeps it as the bytes that would carry it, so reading them as UTF-8 fails as for any other."""
    if not body:
        return b""
    if not is_base64_encoded:
        return body.encode(errors="surrogatepass")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return body.encode(errors="surrogatepass")  # not base64 after all: it is still a body


def accepts_array(annotation: Any) -> bool:
    """Whether a body declared with this type may be a JSON array (`list[X]`, `X | list[Y]`...)."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return any(accepts_array(argument) for argument in get_args(annotation))
    return origin in _ARRAY_TYPES or annotation in _ARRAY_TYPES


def check_request_shape(
    *, content_type: str | None, body: bytes, takes_body: bool, parsed_body: Any = None, takes_array: bool = False
) -> None:
    """Raises the API error for a request whose body a route must not read; `parsed_body` is the body
    as JSON when it parsed (None otherwise: the route's own validation reports malformed JSON)."""
    if not body:
        return  # nothing to read: a Content-Type without content describes nothing
    if not takes_body:
        raise ValidationFailed(
            "This route takes no request body.",
            [{"field": "body", "type": "body_not_allowed", "message": "Send the request without a body."}],
        )
    if not is_json(content_type):
        raise UnsupportedMediaType(
            f"The body must be JSON (Content-Type: application/json), not {media_type(content_type or '')!r}."
        )
    _check_utf8(body)
    if isinstance(parsed_body, list) and not takes_array:
        raise ValidationFailed(
            "The request is not valid.",
            [{"field": "body", "type": "model_type", "message": "The body must be a JSON object, not an array."}],
        )


def _check_utf8(body: bytes) -> None:
    try:
        body.decode()
    except UnicodeDecodeError as error:
        raise ValidationFailed(
            "The request is not valid.",
            [
                {
                    "field": "body",
                    "type": "json_invalid",
                    "message": f"The body is not valid UTF-8 (byte {error.start}): JSON is UTF-8.",
                }
            ],
        ) from None


def check_query(received: Iterable[str], declared: Iterable[str]) -> None:
    """Raises a 422 naming every query parameter the route does not declare (a typo such as `?limt=5` would
    otherwise be answered as if the client had not asked)."""
    unknown = sorted(set(received) - set(declared))
    if unknown:
        raise ValidationFailed(
            "The request is not valid.",
            [
                {"field": name, "type": "extra_forbidden", "message": "This route takes no such query parameter."}
                for name in unknown
            ],
        )


class RouteTable:
    """The methods each path of an API answers, from its route declarations (`/posts/{post_id}` or
    Powertools' `/posts/<post_id>`). A path is matched as sent, as API Gateway HTTP APIs route it: `/posts/` is
    not `/posts` (no route takes it; `$default` answers it 404 whatever the method)."""

    def __init__(self, routes: Iterable[tuple[str, str]]) -> None:
        methods: dict[str, set[str]] = {}
        for method, path in routes:
            methods.setdefault(path, set()).add(method.upper())
        self._paths = [(self._pattern(path), frozenset(found)) for path, found in methods.items()]

    @classmethod
    def of_document(cls, document: Mapping[str, Any]) -> RouteTable:
        """The operations of an OpenAPI document."""
        return cls((method, path) for path, item in document.get("paths", {}).items() for method in item)

    def __or__(self, other: RouteTable) -> RouteTable:
        union = RouteTable(())
        union._paths = self._paths + other._paths
        return union

    @staticmethod
    def _pattern(path: str) -> re.Pattern[str]:
        literal_parts = _PATH_PARAMETER.split(path)
        return re.compile("[^/]+".join(re.escape(part) for part in literal_parts))

    def methods_at(self, path: str) -> frozenset[str]:
        """Every method some route of `path` answers (empty: the API does not know the path). A path can fit
        several routes (`/users/me` and `/users/{username}`); API Gateway routes each method to one of them."""
        return frozenset().union(*(methods for pattern, methods in self._paths if pattern.fullmatch(path)))

    def check_method(self, method: str, path: str) -> None:
        """Raises MethodNotAllowed when `path` is known but not with `method`; returns if it is unknown."""
        allowed = self.methods_at(path)
        if allowed and method.upper() not in allowed:
            raise MethodNotAllowed(method.upper(), allowed)
