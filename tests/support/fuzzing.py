"""Schemathesis against a running Pinhole (the local cloud, or a deployment), as a signed-in user: every
operation of `/openapi.json`, in schemathesis' three request-making phases:

- coverage: schemathesis' deterministic list of cases per operation: boundary and type-mutated values,
  missing and unexpected properties, and the request-shape probes (every method the path does not
  declare, an undeclared Content-Type, a multipart type without a boundary);
- fuzzing: generated valid (positive) and invalid (negative) requests, with real ids of the caller's
  world mixed into paths so that routes reach real objects, not only 404s;
- stateful: scenarios of calls chained along the links schemathesis infers from the document (the id one answer
  gives, in the next request's path), where its checks of what a scenario did (use_after_free,
  ensure_resource_availability) have something to judge.

Each response is judged by every check schemathesis has (`schemathesis.checks.CHECKS`, so a check a new
version adds is run without editing this file) and by API.md's error envelope, each counted apart.
`make test` runs the request-shape probes of the coverage phase and a few generated examples per operation
(tests/e2e/test_api_fuzzing.py); `make soak` every coverage case and many more examples (soak/fuzz.py)."""

from __future__ import annotations

import io
import itertools
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
from hypothesis.errors import Flaky, Unsatisfiable
from PIL import Image
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.errors import InvalidSchema
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Err, Ok
from schemathesis.generation import GenerationMode
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.meta import CoverageScenario, coverage_scenario
from schemathesis.generation.overrides import Override
from schemathesis.schemas import APIOperation

from pinhole.moderation.models import TargetType, case_id_of
from tests.support.api_client import Member, eventually, from_own_address, upload

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


def all_checks() -> dict[str, Any]:
    """Every check schemathesis registers (its own and `error_envelope` above), by name."""
    load_all_checks()
    return {check.__name__: check for check in CHECKS.get_all()}


REQUEST_SHAPE_PROBES = frozenset(
    {
        CoverageScenario.UNSPECIFIED_HTTP_METHOD,
        CoverageScenario.UNSUPPORTED_CONTENT_TYPE,
        CoverageScenario.MALFORMED_CONTENT_TYPE,
    }
)
"""Coverage cases that send what no operation declares: another method, another Content-Type."""


DOMAIN_REFUSALS_OF_VALID_REQUESTS = {
    "cannot_follow_self": "the caller's own username is a valid path value; following oneself is refused",
    "cannot_block_self": "the caller's own username is a valid path value; blocking oneself is refused",
    "cannot_message_self": "the caller's own username is a valid recipient; messaging oneself is refused",
    "cannot_mute_self": "the caller's own username is a valid path value; muting oneself is refused",
    "not_a_group": "a direct conversation's id is a valid path value; only a group has a title and members to change",
    "idempotency_key_reused": "a key is valid once per request: the same key with another body (as generated "
    "examples send it) is refused, not answered with the first request's result",
}
"""Error codes with which the API refuses a schema-valid request because of who is asking, not of its shape."""

RULES_THE_SCHEMA_DOES_NOT_STATE = {
    "cursor": "a cursor is valid only exactly as the server issued it (sealed, bound to its list, and to its reader "
    "on the reader's own lists): no schema tells a generated string from an issued one",
    "tag": "a hashtag is 1 to 100 letters, digits, combining marks and underscores of any script; an OpenAPI "
    "pattern has no Unicode classes",
    "members": "a group's members are 2 to 31 people besides its creator, whose own name is ignored: 32 names (or 2) "
    "are valid only when one of them is the caller's, and the document cannot say who the caller is",
}
"""Domain rules behind `positive_data_acceptance` findings: schema-valid requests the API refuses, each with a
422 naming one of these fields. Any other refusal of a valid request is a finding (the passwords' policy, the
media types and their sizes, and e-mail addresses were here until the document stated them exactly)."""


@dataclass
class Finding:
    kind: str
    operation: str
    status: int
    request: str
    problem: str
    fields: tuple[str, ...] = ()
    """The fields an error envelope's details name (`media.0.content_type`), if the response was one."""
    code: str | None = None
    """The error envelope's code, if the response was one."""
    types: tuple[str, ...] = ()
    """The pydantic error types its details give (`int_type`), if any."""

    def __str__(self) -> str:
        return f"[{self.kind}] {self.operation} -> {self.status}: {self.request}\n    {self.problem}"

    @property
    def is_a_rule_the_schema_does_not_state(self) -> bool:
        return (
            self.kind == "positive_data_acceptance"
            and self.status == 422
            and (
                self.code in DOMAIN_REFUSALS_OF_VALID_REQUESTS
                or (
                    bool(self.fields)
                    and all(field.rsplit(".", 1)[-1] in RULES_THE_SCHEMA_DOES_NOT_STATE for field in self.fields)
                    # a value refused for its JSON type (100.0 as an integer) breaks a rule the schema does state
                    and not any(kind.endswith("_type") for kind in self.types)
                )
            )
        )


@dataclass
class FuzzReport:
    operations: list[str] = field(default_factory=list)
    modes: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    not_generated: dict[str, list[str]] = field(default_factory=dict)
    """Operation → the modes in which no request could be generated (no invalid GET /health exists)."""
    cases: int = 0
    coverage_cases: int = 0
    scenarios: Counter[str] = field(default_factory=Counter)
    """Coverage cases sent, by schemathesis' scenario (`unspecified_http_method`, ...)."""
    scenario_statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    stateful_links: int = 0
    """The answers the stateful phase found to take ids from (schemathesis' bundles: `POST /posts -> 201`)."""
    stateful_steps: int = 0
    stateful_scenarios: int = 0
    """State machine executions Hypothesis ran to their end (its teardown), those it then discarded included."""
    stateful_runs_cut_short: int = 0
    """Runs Hypothesis stopped as flaky: a choice made again met another answer from the server's new state."""
    stateful_operations: Counter[str] = field(default_factory=Counter)
    duration_s: float = 0.0

    def count(self, kind: str) -> int:
        return sum(1 for finding in self.unexplained if finding.kind == kind)

    @property
    def unexplained(self) -> list[Finding]:
        """Every finding but the valid requests refused for a rule the schema does not state."""
        return [finding for finding in self.findings if not finding.is_a_rule_the_schema_does_not_state]

    def figures(self) -> dict[str, Any]:
        return {
            "operations_in_document": len(self.operations),
            "operations_covered": sum(
                len(self.not_generated.get(operation, [])) < len(self.modes) for operation in self.operations
            ),
            "modes": list(self.modes),
            "not_generated": self.not_generated,
            "cases_run": self.cases,
            "coverage_cases_run": self.coverage_cases,
            "coverage_cases_by_scenario": dict(sorted(self.scenarios.items())),
            "coverage_statuses_by_scenario": {
                scenario: {
                    str(status): n for (kind, status), n in sorted(self.scenario_statuses.items()) if kind == scenario
                }
                for scenario in sorted(self.scenarios)
            },
            "stateful_answers_linked_from": self.stateful_links,
            "stateful_steps": self.stateful_steps,
            "stateful_scenarios_run": self.stateful_scenarios,
            "stateful_runs_cut_short": self.stateful_runs_cut_short,
            "stateful_operations_reached": len(self.stateful_operations),
            "responses_by_status": {str(status): n for status, n in sorted(self.statuses.items())},
            "findings_by_check": {kind: self.count(kind) for kind in self.checks},
            "findings": [str(finding) for finding in self.unexplained[:50]],
            "valid_requests_refused_for_rules_the_schema_does_not_state": dict(
                sorted(
                    Counter(
                        reason
                        for finding in self.findings
                        if finding.is_a_rule_the_schema_does_not_state
                        for reason in (
                            [finding.code]
                            if finding.code in DOMAIN_REFUSALS_OF_VALID_REQUESTS
                            else {field.rsplit(".", 1)[-1] for field in finding.fields}
                        )
                    ).items()
                )
            ),
            "duration_s": round(self.duration_s, 1),
        }


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.radial_gradient("L").resize((320, 240)).convert("RGB").save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def published_post(member: Member, caption: str) -> str:
    """A one-photo post by `member`, uploaded and waited for until published: its id."""
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
    a comment, a conversation, a group with carol and a message in each, a story of ann's. Their ids are the values the
    fuzzer may put into paths."""

    ann: Member
    bob: Member
    path_values: dict[str, list[str]]

    @classmethod
    def build(cls, base: httpx.Client) -> World:
        ann, bob = Member(base), Member(base)
        ann_post = published_post(ann, "fuzzing #fuzztag with @" + bob.username)
        bob_post = published_post(bob, "the other side #fuzztag")
        assert ann.http.post(f"/users/{bob.username}/follow").status_code == 200
        comment = bob.http.post(f"/posts/{ann_post}/comments", json={"text": "nice"})
        assert comment.status_code == 201, comment.text
        message = ann.http.post("/messages", json={"to": bob.username, "text": "hello"})
        assert message.status_code == 201, message.text
        report = bob.http.post("/reports", json={"target_type": "post", "target_id": ann_post, "reason": "spam"})
        assert report.status_code == 202, report.text
        carol = Member(base)
        group = ann.http.post("/conversations", json={"members": [bob.username, carol.username], "title": "fuzz"})
        assert group.status_code == 201, group.text
        group_message = ann.http.post(
            "/messages", json={"conversation_id": group.json()["conversation_id"], "text": "hi"}
        )
        assert group_message.status_code == 201, group_message.text
        story = ann.http.post("/stories", json={"media": {"content_type": "image/jpeg", "size_bytes": 1000}})
        assert story.status_code == 201, story.text  # left pending: its author may delete it all the same
        return cls(
            ann=ann,
            bob=bob,
            path_values={
                "post_id": [ann_post, bob_post],
                "username": [ann.username, bob.username],
                "comment_id": [comment.json()["comment_id"]],
                "conversation_id": [message.json()["conversation_id"], group.json()["conversation_id"]],
                "message_id": [message.json()["message_id"], group_message.json()["message_id"]],
                "tag": ["fuzztag"],
                "case_id": [case_id_of(TargetType.POST, ann_post)],
                "device_id": ["nodevice"],  # push is off in the default assembly: nobody has a device
                "story_id": [story.json()["story"]["story_id"]],
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


@dataclass
class _Run:
    base_url: str
    auth: dict[str, str]
    report: FuzzReport
    on_finding: Callable[[Finding], None] | None
    checks: dict[str, Any]
    renew_token: Callable[[], str]
    auth_enforced: set[str] = field(default_factory=set)
    """Operations `ignored_auth` has seen refuse a request without a token (one confirmation each is enough)."""

    def send_and_judge(self, operation: Any, case: schemathesis.Case) -> int:
        """Sends `case` and runs every check on the answer; returns its status."""
        response = case.call(base_url=self.base_url, headers=self.auth, timeout=REQUEST_TIMEOUT_S)
        self.judge(operation, case, response)
        return response.status_code

    def judge(self, operation: Any, case: schemathesis.Case, response: Any, recorder: Any = None) -> None:
        """Runs every check on an answer, each apart (a finding never stops the others); `recorder`: the stateful
        phase's record of the scenario, which use_after_free and ensure_resource_availability read."""
        self.report.cases += 1
        self.report.statuses[response.status_code] += 1
        if operation.path == "/me/sign-out-everywhere" and response.status_code == 204:
            # ann's own token is signed out with the rest: the checks and the cases after need a new one
            self.auth["Authorization"] = f"Bearer {self.renew_token()}"
        for kind, check in self.checks.items():
            if kind == "ignored_auth" and operation.label in self.auth_enforced:
                continue
            try:
                case.validate_response(response, checks=[check], headers=self.auth, recorder=recorder)
            except (AssertionError, Failure, FailureGroup) as failure:
                finding = Finding(
                    kind=kind,
                    operation=operation.label,
                    status=response.status_code,
                    request=f"{response.request.method} {response.request.url} content-type="
                    f"{response.request.headers.get('content-type')!r} body={response.request.body!r:.200}",
                    problem=" ".join(str(failure).split())[:600],
                    fields=_error_fields(response.content),
                    code=_error_code(response.content),
                    types=_error_types(response.content),
                )
                self.report.findings.append(finding)
                if self.on_finding and not finding.is_a_rule_the_schema_does_not_state:
                    self.on_finding(finding)
            else:
                if kind == "ignored_auth" and 200 <= response.status_code < 300:
                    self.auth_enforced.add(operation.label)


def fuzz_api(
    base_url: str,
    world: World,
    examples_per_operation: int,
    modes: tuple[str, ...] = ("positive", "negative"),
    on_finding: Callable[[Finding], None] | None = None,
    coverage: Callable[[schemathesis.Case], bool] = lambda case: True,
    scenarios: int = 0,
) -> FuzzReport:
    """Sends every coverage case `coverage` keeps, then `examples_per_operation` generated requests per
    operation and mode (derandomized: the same requests every run), then `scenarios` stateful scenarios, and
    reports every check's findings; it never stops at the first."""
    base_url = base_url.rstrip("/")
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", timeout=REQUEST_TIMEOUT_S)
    operations = sorted((_valid(result) for result in schema.get_all_operations()), key=_destructive_last)
    checks = all_checks()
    report = FuzzReport(operations=[operation.label for operation in operations], modes=modes, checks=tuple(checks))
    # Its own source address too: the fuzzer's sign-ups count against their own limit, not other tests' (they
    # reach it at length: 429 rate_limited, an answer every check accepts)
    headers = {"Authorization": f"Bearer {world.ann.access_token}", **from_own_address()}

    def renew_token() -> str:
        world.ann.log_in_again()
        return world.ann.access_token

    run = _Run(base_url, headers, report, on_finding, checks, renew_token)
    started = time.monotonic()

    for operation in operations:
        _cover_operation(operation, schema, run, coverage)
    for mode in modes:
        for operation in operations:
            _fuzz_operation(operation, mode, world, examples_per_operation, run)
    if scenarios:  # last: its deletes and blocks would turn the world's ids into 404s for the phases above
        _run_scenarios(schema, run, scenarios)
    report.duration_s = time.monotonic() - started
    return report


STEPS_PER_SCENARIO = 8
SCENARIO_SEED = 14
"""The stateful phase's first seed; a run cut short by the server's state goes on with the next one."""


def _run_scenarios(schema: Any, run: _Run, scenarios: int) -> None:
    """Schemathesis' stateful phase: chains of calls along the links it infers from the document (an id one
    answer gives, the next request's path: POST /posts, then GET, PATCH or DELETE /posts/{post_id}, then GET it
    again), each answer judged by every check, those that read the scenario so far included: use_after_free (a
    deleted resource still served) and ensure_resource_availability (a created one not found).

    The server keeps what every scenario did, so a choice Hypothesis makes again can meet another answer (a
    second POST rate-limited, 429, where the first was 201, leaves a bundle empty), and Hypothesis stops the run
    as flaky (FlakyStrategyDefinition): findings are judged as they come, not raised, so nothing is lost but the
    rest of that run. The phase then goes on in a new run, with the next seed, until `scenarios` have run."""

    class Scenario(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"base_url": run.base_url, "headers": run.auth, "timeout": REQUEST_TIMEOUT_S}

        def validate_response(
            self, response: Any, case: schemathesis.Case, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            run.report.stateful_steps += 1
            run.report.stateful_operations[case.operation.label] += 1
            run.judge(case.operation, case, response, recorder=self.recorder)

        def teardown(self) -> None:
            run.report.stateful_scenarios += 1
            super().teardown()

    run.report.stateful_links = len(Scenario.bundles)
    for attempt in itertools.count():
        remaining = scenarios - run.report.stateful_scenarios
        if remaining <= 0:
            return
        Scenario._hypothesis_internal_use_seed = SCENARIO_SEED + attempt  # read by run_state_machine_as_test
        ran_before = run.report.stateful_scenarios
        try:
            Scenario.run(
                settings=settings(
                    max_examples=remaining,
                    stateful_step_count=STEPS_PER_SCENARIO,
                    deadline=None,
                    database=None,
                    phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
            )
        except Flaky:
            run.report.stateful_runs_cut_short += 1
            run.report.stateful_scenarios += 1  # the one cut short ran in part: counted, so the loop ends
            continue
        if run.report.stateful_scenarios == ran_before:
            return  # Hypothesis found nothing more to run


def _error_code(content: bytes) -> str | None:
    try:
        return str(json.loads(content)["error"]["code"])
    except (ValueError, TypeError, KeyError):
        return None


def _error_details(content: bytes, key: str) -> tuple[str, ...]:
    try:
        details = json.loads(content)["error"].get("details") or []
    except (ValueError, TypeError, KeyError, AttributeError):
        return ()
    return tuple(str(detail.get(key)) for detail in details if isinstance(detail, dict) and key in detail)


def _error_fields(content: bytes) -> tuple[str, ...]:
    return _error_details(content, "field")


def _error_types(content: bytes) -> tuple[str, ...]:
    return _error_details(content, "type")


def request_shape_probes(case: schemathesis.Case) -> bool:
    """The coverage cases `make test` sends: the ones no other test of the suite sends."""
    return coverage_scenario(case) in REQUEST_SHAPE_PROBES


def _cover_operation(operation: Any, schema: Any, run: _Run, keep: Callable[[schemathesis.Case], bool]) -> None:
    generator = CoverageGenerator(
        operation=operation,
        generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        generation_config=schema.config.generation_for(operation=operation, phase="coverage"),
        auth_storage=None,
        override=Override(),
        feedback=FeedbackSources(),
    )
    for case in generator:
        if not keep(case):
            continue
        scenario = str(coverage_scenario(case))
        run.report.coverage_cases += 1
        run.report.scenarios[scenario] += 1
        run.report.scenario_statuses[(scenario, run.send_and_judge(operation, case))] += 1


def _fuzz_operation(operation: Any, mode: str, world: World, examples: int, run: _Run) -> None:
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
    def send(case: schemathesis.Case, real: bool, ids: dict[str, str]) -> None:
        if real:
            case.path_parameters = {**(case.path_parameters or {}), **ids}
        run.send_and_judge(operation, case)

    try:
        send()
    except Unsatisfiable:
        # e.g. no invalid request exists for an operation without parameters or body (GET /health)
        run.report.not_generated.setdefault(operation.label, []).append(mode)
