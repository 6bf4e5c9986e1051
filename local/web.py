"""Pinhole Web at /app/: the built client (web/dist) and its config.json, standing in for the web app's
CloudFront distribution and the config file its deployment writes. Same security headers as CloudFront,
with the Content-Security-Policy of stacks/web_policy.py pointed at the local endpoints."""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path

from starlette.responses import RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from local.endpoints import WEBSOCKET_PATH, LocalEndpoints
from local.errors import error_response
from stacks.web_policy import content_security_policy

WEB_PREFIX = "/app"
CONFIG_FILE = "config.json"
CONFIG_KEYS = ("HttpApiUrl", "WebSocketUrl", "MediaBaseUrl", "UserPoolClientId", "Region")  # = the deployed file's
IMMUTABLE = "public, max-age=31536000, immutable"  # assets/ names carry their content hash
REVALIDATE = "no-cache"


def web_config(outputs: dict[str, str]) -> dict[str, str]:
    """What the client reads at start: the outputs it needs (the deployed config.json has the same keys)."""
    return {key: outputs[key] for key in CONFIG_KEYS}


class WebApp:
    def __init__(self, dist: Path, endpoints: LocalEndpoints, outputs: dict[str, str]) -> None:
        self.dist = dist.resolve()
        self.base = endpoints.base
        self.origin_host = f"{endpoints.host}:{endpoints.port}"
        self.config = json.dumps(web_config(outputs)).encode()
        self.headers = {
            # API, uploads and media share the app's origin here; only the WebSocket scheme differs.
            "Content-Security-Policy": content_security_policy(
                connect=[endpoints.websocket.removesuffix(WEBSOCKET_PATH)], media=[]
            ),
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "strict-origin-when-cross-origin",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"].removeprefix(scope.get("root_path", ""))
        host = dict(scope.get("headers", [])).get(b"host", b"").decode("latin-1")
        if host and host != self.origin_host:
            # Opened as localhost:8000 (or any other name of this machine): the config, uploads and media
            # all name the printed origin, which CORS and the CSP tie the app to. Go there instead.
            response: Response = RedirectResponse(f"{self.base}{WEB_PREFIX}{path or '/'}", status_code=307)
        else:
            response = self._respond(scope["method"], path)
        await response(scope, receive, send)

    def _respond(self, method: str, path: str) -> Response:
        if method not in ("GET", "HEAD"):
            return error_response(405, "method_not_allowed", "The web app is read-only.", {"Allow": "GET, HEAD"})
        if path == "":
            return RedirectResponse(f"{WEB_PREFIX}/", status_code=301)
        name = path.lstrip("/") or "index.html"
        if name == CONFIG_FILE:
            return self._file(self.config, "application/json", REVALIDATE)
        file = (self.dist / name).resolve()
        if not file.is_relative_to(self.dist) or not file.is_file():
            if not (self.dist / "index.html").is_file():
                return error_response(503, "web_app_not_built", "Pinhole Web is not built: run `make web`.")
            return error_response(404, "not_found", "No such file of the web app.")
        media_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        cache = IMMUTABLE if name.startswith("assets/") else REVALIDATE
        return self._file(file.read_bytes(), media_type, cache)

    def _file(self, body: bytes, media_type: str, cache_control: str) -> Response:
        return Response(body, media_type=media_type, headers={**self.headers, "Cache-Control": cache_control})
