"""Schemathesis against a running Pinhole (the local cloud, or a deployment), as a signed-in user: every
operation of `/openapi.json`, with generated valid (positive) and invalid (negative) requests, and real
ids of the caller's world mixed into the path so that routes reach real objects, not only 404s.

Each response is judged by four checks, each counted apart: no 5xx, the body matches the documented
schema, the status is one the document lists, and every error (4xx/5xx) is API.md's error envelope.
`make test` runs a few examples per operation (tests/e2e/test_api_fuzzing.py); `make soak` many more
(soak/fuzz.py)."""

from __future__ import annotations

import io
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from PIL import Image
from schemathesis import checks
from schemathesis.core.errors import InvalidSchema
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Err, Ok
from schemathesis.schemas import APIOperation

from tests.support.api_client import Member, eventually, upload

_ERROR_CODE = re.compile(r"^[a-z]+(_[a-z]+)*$")
_INTERNALS = ("Traceback", 'File "', ".py", "botocore", "pynamodb")
REQUEST_TIMEOUT_S = 30


@schemathesis.check
def error_envelope(ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """API.md: every error has one shape, `{"error": {"code", "message", "details"?}}`, and a 5xx says
    nothing of the code behind it."""
    problem = envelope_problem(response.status_code, response.headers, response.content)
    if problem:
        raise AssertionError(f"{response.status_code} is not the error envelope: {problem}")


def envelope_problem(status: int, headers: Any, content: bytes) -> str | None:
    """Why an error response is not API.md's envelope, or None when it is (or is no error)."""
    if status < 400:
        return None
    if not _header(headers, "content-type").startswith("application/json"):
        return f"content-type {_header(headers, 'content-type')!r}"
    try:
        body = json.loads(content)
    except ValueError:
        return f"not JSON: {content[:100]!r}"
    if not isinstance(body, dict) or set(body) != {"error"} or not isinstance(body["error"], dict):
        return f"not {{'error': {{...}}}}: {body!r}"[:300]
    error = body["error"]
    if not set(error) <= {"code", "message", "details"}:
        return f"unexpected fields {sorted(set(error) - {'code', 'message', 'details'})}"
    if not isinstance(error.get("code"), str) or not _ERROR_CODE.match(error["code"]):
        return f"code {error.get('code')!r} is not snake_case"
    if not isinstance(error.get("message"), str) or not error["message"]:
        return "no message"
    details = error.get("details")
    if "details" in error and not (isinstance(details, list) and details and all(isinstance(d, dict) for d in details)):
        return f"details {details!r} is not a non-empty list of objects"
    if status == 429 and not _header(headers, "retry-after").isdigit():
        return "429 without Retry-After seconds"
    if status >= 500 and any(word in content.decode(errors="replace") for word in _INTERNALS):
        return "a 5xx body shows internals"
    return None


def _header(headers: Any, name: str) -> str:
    value = headers.get(name) or headers.get(name.title()) or ""
    return str(value[0] if isinstance(value, list) else value)


CHECKS: dict[str, Any] = {
    "server_errors": checks.not_a_server_error,
    "schema_violations": checks.response_schema_conformance,
    "undocumented_statuses": checks.status_code_conformance,
    "envelope_violations": error_envelope,
}


@dataclass
class Finding:
    kind: str
    operation: str
    status: int
    request: str
    problem: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.operation} -> {self.status}: {self.request}\n    {self.problem}"


@dataclass
class FuzzReport:
    operations: list[str] = field(default_factory=list)
    modes: tuple[str, ...] = ()
    not_generated: dict[str, list[str]] = field(default_factory=dict)
    """Operation → the modes in which no request could be generated (no invalid GET /health exists)."""
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    duration_s: float = 0.0

    def count(self, kind: str) -> int:
        return sum(1 for finding in self.findings if finding.kind == kind)

    def figures(self) -> dict[str, Any]:
        return {
            "operations_in_document": len(self.operations),
            "operations_covered": sum(
                len(self.not_generated.get(operation, [])) < len(self.modes) for operation in self.operations
            ),
            "modes": list(self.modes),
            "not_generated": self.not_generated,
            "cases_run": self.cases,
            "responses_by_status": {str(status): n for status, n in sorted(self.statuses.items())},
            **{kind: self.count(kind) for kind in CHECKS},
            "findings": [str(finding) for finding in self.findings[:50]],
            "duration_s": round(self.duration_s, 1),
        }


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.radial_gradient("L").resize((320, 240)).convert("RGB").save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def _published_post(member: Member, caption: str) -> str:
    content = _photo()
    created = member.http.post(
        "/posts", json={"caption": caption, "media": [{"content_type": "image/jpeg", "size_bytes": len(content)}]}
    )
    assert created.status_code == 201, created.text
    assert upload(created.json()["uploads"][0], content).status_code in (200, 201, 204)
    post_id = str(created.json()["post"]["post_id"])
    eventually(lambda: member.http.get(f"/posts/{post_id}").json(), lambda post: post["status"] == "published")
    return post_id


@dataclass
class World:
    """The fuzzing user (ann), someone she follows (bob), and their objects: a published post each,
    a comment, a conversation. Their ids are the values the fuzzer may put into paths."""

    ann: Member
    bob: Member
    path_values: dict[str, list[str]]

    @classmethod
    def build(cls, base: httpx.Client) -> World:
        ann, bob = Member(base), Member(base)
        ann_post = _published_post(ann, "fuzzing #fuzztag with @" + bob.username)
        bob_post = _published_post(bob, "the other side #fuzztag")
        assert ann.http.post(f"/users/{bob.username}/follow").status_code == 200
        comment = bob.http.post(f"/posts/{ann_post}/comments", json={"text": "nice"})
        assert comment.status_code == 201, comment.text
        message = ann.http.post("/messages", json={"to": bob.username, "text": "hello"})
        assert message.status_code == 201, message.text
        return cls(
            ann=ann,
            bob=bob,
            path_values={
                "post_id": [ann_post, bob_post],
                "username": [ann.username, bob.username],
                "comment_id": [comment.json()["comment_id"]],
                "conversation_id": [message.json()["conversation_id"]],
                "tag": ["fuzztag"],
            },
        )


def _destructive_last(operation: Any) -> tuple[bool, bool, str]:
    # Deleting ann's post or blocking bob early would turn every later real id into a 404.
    return (operation.method.upper() == "DELETE", "block" in operation.path, operation.label)


def _valid(result: Ok[APIOperation] | Err[InvalidSchema]) -> APIOperation:
    """An operation the document describes well enough to fuzz; a broken description fails the run."""
    if isinstance(result, Err):
        raise result.err()
    return result.ok()


def fuzz_api(
    base_url: str,
    world: World,
    examples_per_operation: int,
    modes: tuple[str, ...] = ("positive", "negative"),
    on_finding: Callable[[Finding], None] | None = None,
) -> FuzzReport:
    """Runs `examples_per_operation` generated requests per operation and mode (derandomized: the
    same requests every run) and reports every check's findings; it never stops at the first."""
    base_url = base_url.rstrip("/")
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", timeout=REQUEST_TIMEOUT_S)
    operations = sorted((_valid(result) for result in schema.get_all_operations()), key=_destructive_last)
    report = FuzzReport(operations=[operation.label for operation in operations], modes=modes)
    auth = {"Authorization": f"Bearer {world.ann.access_token}"}
    started = time.monotonic()

    for mode in modes:
        for operation in operations:
            _fuzz_operation(operation, mode, base_url, auth, world, examples_per_operation, report, on_finding)
    report.duration_s = time.monotonic() - started
    return report


def _fuzz_operation(
    operation: Any,
    mode: str,
    base_url: str,
    auth: dict[str, str],
    world: World,
    examples: int,
    report: FuzzReport,
    on_finding: Callable[[Finding], None] | None,
) -> None:
    names = [name for name in world.path_values if f"{{{name}}}" in operation.path]
    real_ids = st.fixed_dictionaries({name: st.sampled_from(world.path_values[name]) for name in names})
    use_real_ids = st.booleans() if names and mode == "positive" else st.just(False)

    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode)), real=use_real_ids, ids=real_ids
    )
    def run(case: schemathesis.Case, real: bool, ids: dict[str, str]) -> None:
        if real:
            case.path_parameters = {**(case.path_parameters or {}), **ids}
        response = case.call(base_url=base_url, headers=auth, timeout=REQUEST_TIMEOUT_S)
        report.cases += 1
        report.statuses[response.status_code] += 1
        for kind, check in CHECKS.items():
            try:
                case.validate_response(response, checks=[check], headers=auth)
            except (AssertionError, Failure, FailureGroup) as failure:
                finding = Finding(
                    kind=kind,
                    operation=operation.label,
                    status=response.status_code,
                    request=f"{response.request.method} {response.request.url} body={response.request.body!r:.200}",
                    problem=" ".join(str(failure).split())[:600],
                )
                report.findings.append(finding)
                if on_finding:
                    on_finding(finding)

    try:
        run()
    except Unsatisfiable:
        # e.g. no invalid request exists for an operation without parameters or body (GET /health)
        report.not_generated.setdefault(operation.label, []).append(mode)
