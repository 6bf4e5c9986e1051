"""The local stand-in for Pinhole Web's CloudFront distribution: files of web/dist, config.json from
the outputs, the same security headers, and nothing outside web/dist."""

from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from local.endpoints import LocalEndpoints
from local.web import WEB_PREFIX, WebApp
from stacks import constants
from tests.support.asyncio_run import run as run_coroutine

OUTPUTS = {
    "HttpApiUrl": "http://127.0.0.1:8000/",
    "WebSocketUrl": "ws://127.0.0.1:8000/ws",
    "MediaBaseUrl": "http://127.0.0.1:8000/media",
    "UserPoolId": "us-east-1_pool",
    "UserPoolClientId": "client",
    "Region": "us-east-1",
    "WebAppUrl": "http://127.0.0.1:8000/app/",
}


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "dist" / "assets").mkdir(parents=True)
    (tmp_path / "dist" / "index.html").write_text("<!doctype html><title>Pinhole</title>")
    (tmp_path / "dist" / "assets" / "app-ABC.js").write_text("export {};")
    (tmp_path / "secret.txt").write_text("outside")
    return tmp_path / "dist"


class InProcessClient:
    """Requests to the app as mounted by the local cloud, in process (no socket)."""

    def __init__(self, dist: Path) -> None:
        web = WebApp(dist, LocalEndpoints("127.0.0.1", 8000), OUTPUTS)
        self.app = Starlette(routes=[Mount(WEB_PREFIX, app=web)])

    def request(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                return await http.request(method, path, **kwargs)  # type: ignore[arg-type]

        return run_coroutine(send())

    def get(self, path: str, host: str = "127.0.0.1:8000") -> httpx.Response:
        return self.request("GET", path, headers={"host": host})

    def post(self, path: str, content: bytes) -> httpx.Response:
        return self.request("POST", path, content=content, headers={"host": "127.0.0.1:8000"})


def test_index_and_assets_are_served_with_the_security_headers(dist: Path) -> None:
    web = InProcessClient(dist)
    index = web.get("/app/")
    asset = web.get("/app/assets/app-ABC.js")

    assert index.status_code == 200 and "Pinhole" in index.text
    assert index.headers["cache-control"] == "no-cache"
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert asset.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    csp = index.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe" not in csp and "frame-ancestors 'none'" in csp
    assert "ws://127.0.0.1:8000" in csp
    assert index.headers["x-content-type-options"] == "nosniff"
    assert index.headers["x-frame-options"] == "DENY"


def test_config_json_carries_the_deployed_files_keys_from_the_outputs(dist: Path) -> None:
    config = InProcessClient(dist).get("/app/config.json")

    assert config.status_code == 200
    assert config.headers["cache-control"] == "no-cache"
    assert set(config.json()) == set(constants.WEB_CONFIG_KEYS)
    assert config.json()["WebSocketUrl"] == OUTPUTS["WebSocketUrl"]


@pytest.mark.parametrize("path", ["/app/%2e%2e/secret.txt", "/app/assets/%2e%2e/%2e%2e/secret.txt", "/app/nope.js"])
def test_nothing_outside_the_build_is_served(dist: Path, path: str) -> None:
    response = InProcessClient(dist).get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_writes_are_refused_and_a_missing_build_says_how_to_build_it(dist: Path, tmp_path: Path) -> None:
    assert InProcessClient(dist).post("/app/", content=b"x").status_code == 405
    assert InProcessClient(dist).get("/app").headers["location"].endswith("/app/")
    missing = InProcessClient(tmp_path / "not-built").get("/app/")
    assert missing.status_code == 503
    assert "make web" in missing.json()["error"]["message"]


def test_another_name_of_this_machine_is_sent_to_the_printed_origin(dist: Path) -> None:
    # Given the app opened as localhost (the config, uploads and media name 127.0.0.1)
    response = InProcessClient(dist).get("/app/assets/app-ABC.js", host="localhost:8000")

    # Then the browser is sent to the same file at the origin the banner printed
    assert response.status_code == 307
    assert response.headers["location"] == "http://127.0.0.1:8000/app/assets/app-ABC.js"
