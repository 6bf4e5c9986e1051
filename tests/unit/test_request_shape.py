"""The request-shape rules every route shares (pinhole.shared.request_shape): which bodies are JSON, which
routes refuse a body, and which methods a path answers."""

import pytest

from pinhole.shared.errors import MethodNotAllowed, UnsupportedMediaType, ValidationFailed
from pinhole.shared.request_shape import (
    RouteTable,
    accepts_array,
    body_bytes,
    check_query,
    check_request_shape,
    is_json,
)
from pinhole.social.models import SaveRequest


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON;charset=UTF-8",
        "application/json; charset=iso-8859-1",  # RFC 8259 defines no charset: one is ignored
        "application/merge-patch+json",
        "application/vnd.pinhole.v1+json; charset=utf-8",
    ],
)
def test_json_media_types_and_a_missing_header_are_json(content_type: str | None) -> None:
    assert is_json(content_type)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain; charset=utf-8",
        "text/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/jsonp",
        "application/json+xml",
        "application/octet-stream",
        "text/plain,application/json",  # two headers, joined: not one JSON type
    ],
)
def test_other_media_types_are_not_json(content_type: str) -> None:
    assert not is_json(content_type)


def test_a_body_declared_as_anything_but_json_is_415() -> None:
    # Given a route with a body, and a JSON document labelled text/plain
    # When its shape is checked
    # Then it is refused as an unsupported media type, naming the type
    with pytest.raises(UnsupportedMediaType, match="'text/plain'") as refused:
        check_request_shape(content_type="text/plain; charset=utf-8", body=b'{"bio": "x"}', takes_body=True)
    assert (refused.value.status, refused.value.code) == (415, "unsupported_media_type")


def test_a_body_sent_to_a_route_that_takes_none_is_422_naming_the_body() -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_request_shape(content_type="application/json", body=b"{}", takes_body=False)
    assert refused.value.status == 422
    assert refused.value.details == [
        {"field": "body", "type": "body_not_allowed", "message": "Send the request without a body."}
    ]


def test_no_body_is_fine_whatever_the_content_type_says() -> None:
    # A Content-Type with no content describes nothing: a client library that always sends one is not refused
    check_request_shape(content_type="text/plain", body=b"", takes_body=True)
    check_request_shape(content_type="text/plain", body=b"", takes_body=False)


def test_an_array_is_refused_where_the_body_is_an_object() -> None:
    # Given a route whose body is an object (Powertools would validate the array's first element instead)
    with pytest.raises(ValidationFailed) as refused:
        check_request_shape(
            content_type="application/json", body=b"[null, null]", takes_body=True, parsed_body=[None, None]
        )
    assert refused.value.details is not None and refused.value.details[0]["field"] == "body"
    # And an array is fine where the body is one
    check_request_shape(content_type=None, body=b"[1]", takes_body=True, parsed_body=[1], takes_array=True)


@pytest.mark.parametrize(
    ("body", "first_bad_byte"),
    [(b'{"bio": "caf\xe9"}', 12), (b'{"bio": "\xff\xfe"}', 9), (b'{"bio": "\xed\xa0\x80"}', 9)],
    ids=["latin-1", "ff-fe", "encoded-surrogate"],
)
def test_a_json_body_that_is_not_utf8_is_422_json_invalid_naming_the_body_and_the_byte(
    body: bytes, first_bad_byte: int
) -> None:
    # Given a JSON body that is not UTF-8, labelled JSON with a charset that says otherwise (RFC 8259 has none)
    # When its shape is checked
    with pytest.raises(ValidationFailed) as refused:
        check_request_shape(content_type="application/json; charset=latin-1", body=body, takes_body=True)

    # Then it is refused as JSON that cannot be read, rather than read with U+FFFD in place of what was sent
    assert (refused.value.status, refused.value.code, refused.value.message) == (
        422,
        "validation_error",
        "The request is not valid.",
    )
    assert refused.value.details == [
        {
            "field": "body",
            "type": "json_invalid",
            "message": f"The body is not valid UTF-8 (byte {first_bad_byte}): JSON is UTF-8.",
        }
    ]


def test_a_body_that_is_not_utf8_is_415_first_when_it_is_not_json_and_422_where_no_body_is_taken() -> None:
    with pytest.raises(UnsupportedMediaType):
        check_request_shape(content_type="text/plain", body=b"caf\xe9", takes_body=True)
    with pytest.raises(ValidationFailed) as refused:
        check_request_shape(content_type="application/json", body=b"caf\xe9", takes_body=False)
    assert refused.value.details is not None and refused.value.details[0]["type"] == "body_not_allowed"


def test_a_body_s_bytes_are_what_was_sent_a_lone_surrogate_kept_as_bytes_no_utf8_reads() -> None:
    assert body_bytes("w6k=", is_base64_encoded=True) == "é".encode()
    assert body_bytes("caf\u00e9", is_base64_encoded=False) == "café".encode()
    assert body_bytes("/w==!", is_base64_encoded=True) == b"/w==!"  # not base64 after all: still a body
    # a string with a lone surrogate (an event's JSON may escape one) was a UnicodeEncodeError: a 500
    assert body_bytes('{"bio": "\ud800"}', is_base64_encoded=False) == b'{"bio": "\xed\xa0\x80"}'


def test_a_json_object_to_a_route_with_a_body_passes() -> None:
    check_request_shape(content_type=None, body=b"{}", takes_body=True, parsed_body={})


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [(SaveRequest, False), (SaveRequest | None, False), (list[str], True), (list[int] | None, True), (dict, False)],
)
def test_which_body_types_take_an_array(annotation: object, expected: bool) -> None:
    assert accepts_array(annotation) is expected


ROUTES = RouteTable(
    [
        ("GET", "/me"),
        ("PATCH", "/me"),
        ("GET", "/users/<username>"),
        ("POST", "/users/<username>/follow"),
        ("DELETE", "/users/<username>/follow"),
        ("GET", "/users/me-special"),
    ]
)


def test_methods_of_a_path_come_from_every_route_it_fits() -> None:
    assert ROUTES.methods_at("/me") == {"GET", "PATCH"}
    assert ROUTES.methods_at("/users/ann/follow") == {"POST", "DELETE"}
    assert ROUTES.methods_at("/users/me-special") == {"GET"}
    assert ROUTES.methods_at("/users/ann/nothing") == frozenset()


def test_a_known_path_with_another_method_is_405_listing_its_methods() -> None:
    with pytest.raises(MethodNotAllowed) as refused:
        ROUTES.check_method("put", "/me")
    assert refused.value.status == 405
    assert refused.value.headers == {"Allow": "GET, PATCH"}


def test_an_unknown_path_or_a_declared_method_is_not_a_405() -> None:
    ROUTES.check_method("PUT", "/nothing/here")
    ROUTES.check_method("DELETE", "/users/ann/follow")


def test_a_known_path_with_a_trailing_slash_is_another_path_the_api_does_not_know() -> None:
    # (API Gateway routes `/me/` to `$default`, not to `GET /me`: it is 404 whatever the method, never 405)
    assert ROUTES.methods_at("/me/") == frozenset()
    assert ROUTES.methods_at("/users/ann/follow/") == frozenset()
    ROUTES.check_method("GET", "/me/")
    ROUTES.check_method("PUT", "/me/")
    ROUTES.check_method("GET", "/users/ann/follow/")


def test_routes_of_an_openapi_document_and_of_a_resolver_combine() -> None:
    document = {"paths": {"/posts/{post_id}": {"get": {}, "delete": {}}}}
    combined = ROUTES | RouteTable.of_document(document)
    assert combined.methods_at("/posts/01ABC") == {"GET", "DELETE"}
    assert combined.methods_at("/me") == {"GET", "PATCH"}


def test_a_query_parameter_the_route_does_not_declare_is_422_naming_it() -> None:
    # Given a route that takes `limit` and `cursor`, asked with a typo and an extra
    with pytest.raises(ValidationFailed) as refused:
        check_query(["limt", "cursor", ""], ["limit", "cursor"])

    # Then each unknown one is named (a typo would otherwise be answered as if nothing had been asked)
    assert [detail["field"] for detail in refused.value.details or []] == ["", "limt"]
    check_query(["limit"], ["limit", "cursor"])
