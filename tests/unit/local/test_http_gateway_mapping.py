"""Payload v2.0 events and responses, compared with the shape AWS sends (shared/events sample)."""

import base64
import json
from pathlib import Path

import pytest

from local.http_gateway import BadHandlerResponse, build_event, build_response, source_address

SAMPLE = json.loads((Path(__file__).parent / "events" / "apiGatewayProxyV2Event.json").read_text())


def event(**overrides):
    arguments = {
        "method": "POST",
        "raw_path": "/my/path",
        "raw_query": "parameter1=value1&parameter1=value2&parameter2=value",
        "header_pairs": [
            ("Header1", "value1"),
            ("Header2", "value1"),
            ("Header2", "value2"),
            ("Cookie", "cookie1; cookie2"),
            ("Content-Type", "application/json"),
            ("User-Agent", "agent"),
        ],
        "body": b'{"message": "hello world"}',
        "route_key": "POST /my/{thing}",
        "path_parameters": {"thing": "path"},
        "api_id": "api-id",
        "domain_name": "127.0.0.1:8000",
        "source_ip": "127.0.0.1",
        "request_id": "id",
        "claims": {"sub": "u1", "exp": 1700000000, "cognito:groups": ["a", "b"]},
        "scopes": None,
        "now_ms": 1583348638390,
    }
    return build_event(**{**arguments, **overrides})


def test_event_has_the_keys_aws_sends():
    # Given the AWS sample's keys (minus mTLS and stage variables, which the app does not use)
    expected_top = set(SAMPLE) - {"stageVariables"}
    expected_context = set(SAMPLE["requestContext"]) - {"authentication"}
    # When the gateway builds an event for a similar request
    built = event()
    # Then it has the same top-level and requestContext keys
    assert set(built) == expected_top
    assert set(built["requestContext"]) == expected_context
    assert set(built["requestContext"]["http"]) == set(SAMPLE["requestContext"]["http"])


def test_headers_lowercased_and_joined_cookies_split_query_joined():
    built = event()
    assert built["headers"]["header2"] == "value1,value2"
    assert "cookie" not in built["headers"]
    assert built["cookies"] == ["cookie1", "cookie2"]
    assert built["queryStringParameters"] == SAMPLE["queryStringParameters"]
    assert built["requestContext"]["time"] == "04/Mar/2020:19:03:58 +0000"


def test_jwt_claims_are_strings_as_api_gateway_renders_them():
    claims = event()["requestContext"]["authorizer"]["jwt"]["claims"]
    assert claims == {"sub": "u1", "exp": "1700000000", "cognito:groups": "[a b]"}


def test_binary_body_is_base64_encoded_and_empty_parts_are_omitted():
    built = event(
        body=b"\x89PNG", header_pairs=[("content-type", "image/png")], raw_query="", path_parameters={}, claims=None
    )
    assert built["isBase64Encoded"] is True
    assert base64.b64decode(built["body"]) == b"\x89PNG"
    assert {"queryStringParameters", "pathParameters", "cookies"}.isdisjoint(built)
    assert "authorizer" not in built["requestContext"]


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=latin-1", "text/plain", ""], ids=repr
)
@pytest.mark.parametrize("raw", [b'{"bio":"caf\xe9"}', b'{"bio":"\xff\xfe"}', b'{"bio":"\xed\xa0\x80"}'])
def test_a_text_body_that_is_not_utf8_travels_base64_byte_for_byte(content_type, raw):
    # When a body of a text type is not UTF-8
    built = event(body=raw, header_pairs=[("content-type", content_type)] if content_type else [])

    # Then the handler gets exactly its bytes, base64-encoded, not a string with U+FFFD in place of them
    assert built["isBase64Encoded"] is True
    assert base64.b64decode(built["body"]) == raw


def test_a_text_body_that_is_utf8_is_a_string():
    built = event(body='{"bio":"café"}'.encode())
    assert (built["body"], built["isBase64Encoded"]) == ('{"bio":"café"}', False)


def test_proxy_result_maps_status_headers_cookies_and_binary_body():
    response = build_response(
        {
            "statusCode": 201,
            "headers": {"x-a": "1"},
            "cookies": ["a=1", "b=2"],
            "isBase64Encoded": True,
            "body": base64.b64encode(b"\x00\x01").decode(),
        },
        {"apigw-requestid": "r"},
    )
    assert response.status_code == 201
    assert response.body == b"\x00\x01"
    assert response.headers.getlist("set-cookie") == ["a=1", "b=2"]
    assert response.headers["x-a"] == "1"


def test_non_proxy_result_is_a_200_json_body():
    response = build_response({"hello": "world"}, {})
    assert (response.status_code, json.loads(response.body)) == (200, {"hello": "world"})
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "garbage",
    [
        {"statusCode": "teapot"},
        {"statusCode": 200, "body": {"a": 1}},
        {"statusCode": 999},
        {"statusCode": 200, "headers": ["x"]},
        {1, 2},
    ],
)
def test_garbage_result_is_rejected(garbage):
    with pytest.raises(BadHandlerResponse):
        build_response(garbage, {})


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "source"),
    [
        ("127.0.0.1", None, "127.0.0.1"),
        ("127.0.0.1", "2001:db8:1:2::1", "2001:db8:1:2::1"),
        ("::1", "203.0.113.7, 10.0.0.1", "203.0.113.7"),  # the first address is the client's
        ("127.0.0.1", "not-an-address", "127.0.0.1"),
        ("192.0.2.50", "203.0.113.7", "192.0.2.50"),  # a peer elsewhere speaks only for itself, as on AWS
        (None, None, "127.0.0.1"),
    ],
)
def test_source_address_is_the_peer_or_what_a_loopback_peer_forwards(
    peer: str | None, forwarded_for: str | None, source: str
) -> None:
    assert source_address(peer, forwarded_for) == source
