"""Lambda's payload quotas in the local runner, to the byte its errors name: a synchronous invocation's event
up to 6,291,456 bytes and its answer up to 6,291,556; an asynchronous (Event) invocation's event up to 1 MB.
Event source mappings build batches that fit the synchronous quota."""

from pathlib import Path
from typing import Any, cast

import pytest

from local.lambda_runner import (
    ASYNC,
    REQUEST_LIMIT_BYTES,
    RESPONSE_LIMIT_BYTES,
    SYNC,
    LambdaRunner,
    LocalFunction,
    RequestTooLarge,
    ResponseTooLarge,
    request_bytes,
    response_bytes,
)
from local.pumps.batch import fitting_batches
from tests.support.asyncio_run import run as run_coroutine


def function_answering(answer: Any, calls: list[Any]) -> LocalFunction:
    """A function whose one execution environment is a plain callable (nothing imported)."""

    def handler(event: Any, context: Any) -> Any:
        calls.append(event)
        return answer(event) if callable(answer) else answer

    function = LocalFunction(
        resource=cast(Any, None),
        name="fn",
        arn="arn:aws:lambda:us-east-1:123456789012:function:fn",
        asset_dir=Path("."),
        handler_path="handler.handler",
        environment={},
        timeout_s=10,
        memory_mb=128,
        module_file=Path("handler.py"),
    )
    function._idle.append(handler)
    return function


def event_of(size: int) -> dict[str, str]:
    """An event whose compact JSON is exactly `size` bytes."""
    padding = size - request_bytes({"body": ""})
    return {"body": "x" * padding}


@pytest.fixture
def runner() -> Any:
    runner = LambdaRunner([])
    yield runner
    runner.shutdown()


@pytest.mark.parametrize("invocation_type", [SYNC, ASYNC])
def test_an_event_at_the_quota_runs_and_one_byte_more_is_refused_before_the_function(
    runner: LambdaRunner, invocation_type: str
) -> None:
    calls: list[Any] = []
    function = function_answering(None, calls)
    limit = REQUEST_LIMIT_BYTES[invocation_type]

    runner.invoke(function, event_of(limit), invocation_type=invocation_type)
    with pytest.raises(RequestTooLarge, match=f"too large for the {invocation_type} invocation type"):
        runner.invoke(function, event_of(limit + 1), invocation_type=invocation_type)

    assert len(calls) == 1
    assert request_bytes(calls[0]) == limit


def test_the_quotas_are_lambdas_own_numbers() -> None:
    assert REQUEST_LIMIT_BYTES == {SYNC: 6_291_456, ASYNC: 1_048_576}
    assert RESPONSE_LIMIT_BYTES == 6_291_556


def test_an_answer_over_the_quota_is_an_error_after_the_function_ran(runner: LambdaRunner) -> None:
    # Given functions answering exactly the quota, and one byte more (json.dumps as the runtime serializes)
    def answer_of(size: int) -> str:
        return "x" * (size - response_bytes(""))

    calls: list[Any] = []
    at_quota = function_answering(answer_of(RESPONSE_LIMIT_BYTES), calls)
    over = function_answering(answer_of(RESPONSE_LIMIT_BYTES + 1), calls)

    # Then the first answer comes back; the second raises, although the function ran
    assert response_bytes(runner.invoke(at_quota, {})) == RESPONSE_LIMIT_BYTES
    with pytest.raises(ResponseTooLarge, match="6291556 bytes"):
        runner.invoke(over, {})
    assert len(calls) == 2


def test_an_asynchronous_invocation_has_no_answer_to_check(runner: LambdaRunner) -> None:
    huge = function_answering("x" * (RESPONSE_LIMIT_BYTES + 1), [])
    assert runner.invoke(huge, {}, invocation_type=ASYNC) is None


def test_the_gateways_await_the_same_quotas(runner: LambdaRunner) -> None:
    calls: list[Any] = []
    function = function_answering("ok", calls)

    async def invoke(event: Any) -> Any:
        return await runner.invoke_async(function, event)

    assert run_coroutine(invoke(event_of(REQUEST_LIMIT_BYTES[SYNC]))) == "ok"
    with pytest.raises(RequestTooLarge):
        run_coroutine(invoke(event_of(REQUEST_LIMIT_BYTES[SYNC] + 1)))
    assert len(calls) == 1


def test_a_batch_is_cut_where_the_next_record_would_overflow_the_quota() -> None:
    # Given ten records of about 1 MB (SQS allows 1 MiB messages: ten would make 10 MB)
    records = [{"messageId": str(n), "body": "x" * 1_000_000} for n in range(10)]

    # When they are batched for a synchronous invocation
    batches = list(fitting_batches(records))

    # Then every batch's event fits, in order, nothing lost, and each is as full as it can be
    assert [record["messageId"] for batch in batches for record in batch] == [str(n) for n in range(10)]
    assert all(request_bytes({"Records": batch}) <= REQUEST_LIMIT_BYTES[SYNC] for batch in batches)
    assert [len(batch) for batch in batches] == [6, 4]


def test_batch_cutting_counts_to_the_byte() -> None:
    # Given two records that exactly fill the quota together, and a third of one byte
    half = (REQUEST_LIMIT_BYTES[SYNC] - request_bytes({"Records": [{}, {}]})) // 2
    first = {"b": "x" * (half - request_bytes({"b": ""}) + 2)}
    second = {"b": "y" * (REQUEST_LIMIT_BYTES[SYNC] - request_bytes({"Records": [first, {"b": ""}]}))}
    assert request_bytes({"Records": [first, second]}) == REQUEST_LIMIT_BYTES[SYNC]

    # Then the two go together and the next one starts a batch of its own
    assert [len(batch) for batch in fitting_batches([first, second, {"b": ""}])] == [2, 1]


def test_a_record_too_large_alone_goes_alone() -> None:
    big = {"body": "x" * (REQUEST_LIMIT_BYTES[SYNC] + 10)}
    assert [len(batch) for batch in fitting_batches([{"a": 1}, big, {"b": 2}])] == [1, 1, 1]
