"""The local cloud as a client sees it: real sockets, real process, real shutdown."""

import gzip
import json
import re
import socket
import time
from importlib import resources

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.e2e.conftest import start_local_cloud
from tests.support.api_client import Member

pytestmark = pytest.mark.e2e
PRIVATE_ROUTE = "/me"


def moto_signing_key() -> jwt.PyJWK:
    """The key moto's Cognito signs with: a token signed by it passes the signature check."""
    blob = resources.files("moto").joinpath("cognitoidp/resources/jwks-private.json.gz").read_bytes()
    return jwt.PyJWK(json.loads(gzip.decompress(blob)), algorithm="RS256")


def claims(outputs, **overrides):
    now = int(time.time())
    base = {
        "iss": f"https://cognito-idp.{outputs['Region']}.amazonaws.com/{outputs['UserPoolId']}",
        "sub": "00000000-0000-0000-0000-000000000000",
        "client_id": outputs["UserPoolClientId"],
        "token_use": "access",
        "username": "nobody",
        "iat": now,
        "exp": now + 300,
    }
    return {key: value for key, value in {**base, **overrides}.items() if value is not None}


def assert_unauthorized(response):
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_health_answers_200_over_a_socket(local_cloud):
    response = local_cloud.http.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["apigw-requestid"]


def test_a_request_that_is_not_valid_http_is_refused_in_the_envelope(local_cloud):
    # Given a request whose Content-Length is no number (the fuzz soak sent one), over a raw socket
    url = httpx.URL(str(local_cloud.http.base_url))
    with socket.create_connection((url.host, url.port), timeout=10) as connection:
        connection.sendall(b"GET /me/devices HTTP/1.1\r\nHost: x\r\ncontent-length: [J;,G}\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk

    # Then the server refuses it in the API's error envelope, not uvicorn's text/plain
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"content-type: application/json" in head.lower()
    assert json.loads(body)["error"]["code"] == "bad_request"


def test_outputs_have_exactly_the_api_keys(local_cloud):
    assert set(local_cloud.outputs) == {
        "HttpApiUrl",
        "WebSocketUrl",
        "MediaBaseUrl",
        "UserPoolId",
        "UserPoolClientId",
        "Region",
        "WebAppUrl",
    }


def test_unknown_route_is_a_404_envelope(local_cloud):
    response = local_cloud.http.get("/no/such/route")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_browser_on_the_configured_origin_may_call_the_api_and_another_may_not(local_cloud):
    # Given cdk.json's cors_origins (the template's CorsConfiguration), as a browser asks before a POST with a token
    asking = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
    allowed, other = "http://localhost:8000", "https://elsewhere.example"

    # Then the gateway answers the preflight itself, for the configured origin only
    preflight = local_cloud.http.options("/posts", headers={"Origin": allowed, **asking})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == allowed
    assert "POST" in preflight.headers["access-control-allow-methods"].split(",")
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower().split(",")
    refused = local_cloud.http.options("/posts", headers={"Origin": other, **asking})
    assert refused.status_code == 204 and "access-control-allow-origin" not in refused.headers
    # And the answer itself (a 401 here) names the allowed origin, and the headers a client may read
    answer = local_cloud.http.post("/posts", headers={"Origin": allowed}, json={})
    assert answer.headers["access-control-allow-origin"] == allowed
    assert "Retry-After" in answer.headers["access-control-expose-headers"].split(",")


def test_private_route_without_token_is_401(local_cloud):
    assert_unauthorized(local_cloud.http.get(PRIVATE_ROUTE))


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(
            lambda o: jwt.encode(
                claims(o),
                rsa.generate_private_key(public_exponent=65537, key_size=2048),
                algorithm="RS256",
                headers={"kid": "dummy"},
            ),
            id="other-rsa-key",
        ),
        pytest.param(lambda o: jwt.encode(claims(o), None, algorithm="none", headers={"kid": "dummy"}), id="alg-none"),
        pytest.param(
            lambda o: jwt.encode(claims(o), "x" * 32, algorithm="HS256", headers={"kid": "dummy"}), id="hs256"
        ),
        pytest.param(
            lambda o: jwt.encode(
                claims(o, exp=int(time.time()) - 60),
                moto_signing_key().key,
                algorithm="RS256",
                headers={"kid": "dummy"},
            ),
            id="expired",
        ),
        pytest.param(
            lambda o: jwt.encode(
                claims(o, client_id="someone-else"), moto_signing_key().key, algorithm="RS256", headers={"kid": "dummy"}
            ),
            id="wrong-audience",
        ),
        pytest.param(
            lambda o: jwt.encode(
                claims(o, iss="https://cognito-idp.us-east-1.amazonaws.com/other"),
                moto_signing_key().key,
                algorithm="RS256",
                headers={"kid": "dummy"},
            ),
            id="wrong-issuer",
        ),
    ],
)
def test_private_route_with_forged_token_is_401(local_cloud, forge):
    token = forge(local_cloud.outputs)
    assert_unauthorized(local_cloud.http.get(PRIVATE_ROUTE, headers={"Authorization": f"Bearer {token}"}))


def test_token_with_valid_claims_and_moto_signature_passes_the_authorizer(local_cloud):
    # The control for the forgeries above: the same token, unforged and naming a real user, is served as hers.
    ada = Member(local_cloud.http)
    token = jwt.encode(
        claims(local_cloud.outputs, sub=ada.user_id, username=ada.username),
        moto_signing_key().key,
        algorithm="RS256",
        headers={"kid": "dummy"},
    )
    response = local_cloud.http.get(PRIVATE_ROUTE, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert (response.json()["user_id"], response.json()["username"]) == (ada.user_id, ada.username)


def test_ctrl_c_stops_everything_cleanly(tmp_path):
    # Given a second local cloud, serving
    running = start_local_cloud(tmp_path)
    port = int(running.outputs["HttpApiUrl"].rsplit(":", 1)[1].strip("/"))
    assert running.http.get("/health").status_code == 200
    # When it gets SIGINT
    returncode, output = running.stop()
    # Then it exits 0 (stop() fails if it still runs after SHUTDOWN_TIMEOUT_S; the usual ~1.5 s is a figure in
    # docs/BENCHMARKS.md, not an assertion), says so, frees its port and removes its outputs
    assert returncode == 0, output
    assert "stopped" in output
    assert not running.outputs_path.exists()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


def test_taken_port_is_a_one_line_error_with_exit_code_2(local_cloud, tmp_path):
    import subprocess
    import sys

    port = local_cloud.outputs["HttpApiUrl"].rsplit(":", 1)[1].strip("/")
    result = subprocess.run(
        [sys.executable, "-m", "local", "--port", port, "--outputs", str(tmp_path / "o.json")],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=str(__import__("pathlib").Path(__file__).parents[2]),
    )
    assert result.returncode == 2
    assert "already in use" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_first_url_printed_is_pinhole_web_and_it_is_served_with_its_config(local_cloud):
    # Given the banner `make run` prints
    first_url = re.search(r"https?://\S+", local_cloud.output()).group(0)

    # Then its first URL is the web app, which answers with the app and a CSP that allows no inline script
    assert first_url == local_cloud.outputs["WebAppUrl"]
    page = httpx.get(first_url, timeout=10)
    assert page.status_code == 200 and '<div id="app">' in page.text
    assert "script-src 'self';" in page.headers["content-security-policy"]
    # And its config.json points at this cloud's endpoints
    config = httpx.get(first_url + "config.json", timeout=10).json()
    assert config["HttpApiUrl"] == local_cloud.outputs["HttpApiUrl"]
    assert config["WebSocketUrl"] == local_cloud.outputs["WebSocketUrl"]
