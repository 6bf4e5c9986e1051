"""API Gateway's CORS for an HTTP API, read from the template's `CorsConfiguration` ("Configure CORS for HTTP
APIs in API Gateway"): with it configured, API Gateway itself answers every preflight request (an OPTIONS with
`Origin` and `Access-Control-Request-Method`, on any path, with no OPTIONS route), and adds the configured headers
to the function's answer to a request whose `Origin` it allows, ignoring any CORS header the function returned.

An origin it does not allow gets no CORS header: its preflight is answered 204 bare, which the browser refuses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

PREFLIGHT_STATUS = 204


@dataclass(frozen=True)
class CorsPolicy:
    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False

    @classmethod
    def from_configuration(cls, configuration: Mapping[str, Any] | None) -> CorsPolicy | None:
        """The policy of an `AWS::ApiGatewayV2::Api`'s resolved `CorsConfiguration`; None without one."""
        if not configuration:
            return None
        return cls(
            allow_origins=tuple(configuration.get("AllowOrigins", ())),
            allow_methods=tuple(configuration.get("AllowMethods", ())),
            allow_headers=tuple(configuration.get("AllowHeaders", ())),
            expose_headers=tuple(configuration.get("ExposeHeaders", ())),
            max_age=configuration.get("MaxAge"),
            allow_credentials=bool(configuration.get("AllowCredentials", False)),
        )

    def allows(self, origin: str) -> bool:
        """`*`, the origin itself, or a scheme's wildcard (`https://*`), as API Gateway reads `allowOrigins`."""
        return any(
            allowed == "*"
            or allowed.lower() == origin.lower()
            or (allowed.endswith("://*") and origin.lower().startswith(allowed[:-1].lower()))
            for allowed in self.allow_origins
        )

    @staticmethod
    def is_preflight(method: str, headers: Mapping[str, str]) -> bool:
        return method == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers

    def preflight(self, headers: Mapping[str, str], id_headers: dict[str, str]) -> Response:
        """API Gateway's own answer to a preflight request."""
        answer = dict(id_headers)
        if self.allows(headers["origin"]):
            answer.update(self._origin_headers(headers["origin"]))
            if self.allow_methods:
                answer["access-control-allow-methods"] = ",".join(self.allow_methods)
            if self.allow_headers:
                answer["access-control-allow-headers"] = ",".join(self.allow_headers)
            if self.max_age is not None:
                answer["access-control-max-age"] = str(self.max_age)
        return Response(status_code=PREFLIGHT_STATUS, headers=answer)

    def apply(self, response: Response, origin: str | None) -> Response:
        """The function's answer as API Gateway sends it on: its own CORS headers dropped, the policy's added."""
        for name in [name for name in response.headers if name.lower().startswith("access-control-")]:
            del response.headers[name]
        if origin is not None and self.allows(origin):
            response.headers.update(self._origin_headers(origin))
            if self.expose_headers:
                response.headers["access-control-expose-headers"] = ",".join(self.expose_headers)
        return response

    def _origin_headers(self, origin: str) -> dict[str, str]:
        wildcard = "*" in self.allow_origins and not self.allow_credentials
        headers = {"access-control-allow-origin": "*" if wildcard else origin}
        if self.allow_credentials:
            headers["access-control-allow-credentials"] = "true"
        return headers
