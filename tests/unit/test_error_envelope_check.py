"""The fuzzer's envelope check (tests/support/fuzzing.py) can fail: what it accepts and what it refuses."""

import json

import pytest

from pinhole.shared.api import error_response
from tests.support.fuzzing import Finding, envelope_problem

JSON = {"content-type": "application/json"}


def problem(status: int, body: object, headers: dict[str, str] | None = None) -> str | None:
    return envelope_problem(status, headers or JSON, json.dumps(body).encode())


def test_the_envelope_the_api_sends_passes() -> None:
    response = error_response(422, "validation_error", "The request is not valid.", [{"field": "limit"}])

    assert envelope_problem(422, response.headers, response.body.encode()) is None
    assert problem(200, {"anything": "goes"}) is None  # not an error


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (422, {"detail": [{"loc": ["query", "limit"]}]}, "not {'error'"),
        (401, {"message": "Unauthorized"}, "not {'error'"),
        (404, {"error": {"code": "NotFound", "message": "x"}}, "snake_case"),
        (404, {"error": {"code": "not_found"}}, "no message"),
        (404, {"error": {"code": "not_found", "message": "x", "stack": "..."}}, "unexpected fields"),
        (422, {"error": {"code": "validation_error", "message": "x", "details": []}}, "details"),
        (500, {"error": {"code": "internal", "message": 'File "handler.py", line 3'}}, "internals"),
        (429, {"error": {"code": "rate_limited", "message": "Slow down."}}, "Retry-After"),
    ],
)
def test_anything_else_is_refused_with_the_reason(status: int, body: object, expected: str) -> None:
    assert expected in (problem(status, body) or "")


def test_an_error_that_is_not_json_is_refused() -> None:
    assert "content-type" in (envelope_problem(502, {"content-type": "text/html"}, b"<h1>Bad gateway</h1>") or "")
    assert "not JSON" in (envelope_problem(500, JSON, b"Internal Server Error") or "")


def test_a_rate_limited_answer_with_retry_after_passes() -> None:
    response = error_response(429, "rate_limited", "Slow down.", **{"Retry-After": "7"})

    assert envelope_problem(429, response.headers, response.body.encode()) is None


def _refusal(status: int, code: str, details: list[dict[str, str]]) -> Finding:
    return Finding(
        kind="positive_data_acceptance",
        operation="POST /posts",
        status=status,
        request="POST /posts",
        problem="Schema-valid request rejected",
        fields=tuple(detail["field"] for detail in details),
        code=code,
        types=tuple(detail["type"] for detail in details if "type" in detail),
    )


def test_a_valid_request_refused_for_a_rule_the_schema_does_not_state_is_explained() -> None:
    forged_cursor = _refusal(422, "validation_error", [{"field": "cursor"}])
    self_follow = _refusal(422, "cannot_follow_self", [{"field": "username"}])
    assert forged_cursor.is_a_rule_the_schema_does_not_state and self_follow.is_a_rule_the_schema_does_not_state


def test_a_valid_request_refused_for_a_rule_the_schema_states_is_a_finding() -> None:
    # The document states each media type's largest size: a valid declaration refused as too large is a finding
    too_large = _refusal(413, "payload_too_large", [{"field": "media.0.size_bytes"}])
    assert not too_large.is_a_rule_the_schema_does_not_state


def test_a_field_with_a_rule_of_its_own_refused_for_its_json_type_is_a_finding() -> None:
    # a tag has a rule the schema does not state (its characters), but a value refused as "not a string" breaks
    # one it does state
    as_number = _refusal(422, "validation_error", [{"field": "tag", "type": "string_type"}])
    assert not as_number.is_a_rule_the_schema_does_not_state
