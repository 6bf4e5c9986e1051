"""The local stand-in for Pinhole Web's CloudFront distribution: files of web/dist, config.json from
the outputs, the same security headers, and nothing outside web/dist."""

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from local.endpoints import LocalEndpoints
from local.web import WEB_PREFIX, WebApp
from stacks import constants

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

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


def client(dist: Path) -> TestClient:
    app = WebApp(dist, LocalEndpoints("127.0.0.1", 8000), OUTPUTS)
    return TestClient(Starlette(routes=[Mount(WEB_PREFIX, app=app)]), follow_redirects=False)


def test_index_and_assets_are_served_with_the_security_headers(dist: Path) -> None:
    web = client(dist)
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
    config = client(dist).get("/app/config.json")

    assert config.status_code == 200
    assert config.headers["cache-control"] == "no-cache"
    assert set(config.json()) == set(constants.WEB_CONFIG_KEYS)
    assert config.json()["WebSocketUrl"] == OUTPUTS["WebSocketUrl"]


@pytest.mark.parametrize("path", ["/app/%2e%2e/secret.txt", "/app/assets/%2e%2e/%2e%2e/secret.txt", "/app/nope.js"])
def test_nothing_outside_the_build_is_served(dist: Path, path: str) -> None:
    response = client(dist).get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_writes_are_refused_and_a_missing_build_says_how_to_build_it(dist: Path, tmp_path: Path) -> None:
    assert client(dist).post("/app/", content=b"x").status_code == 405
    assert client(dist).get("/app").headers["location"].endswith("/app/")
    missing = client(tmp_path / "not-built").get("/app/")
    assert missing.status_code == 503
    assert "make web" in missing.json()["error"]["message"]
