"""Faults injected into every botocore client of the process (boto3's and PynamoDB's alike), at the
point where botocore hands a call to the network and raises what came back: a throttled or cancelled
call is refused before it reaches moto, exactly as DynamoDB refuses it, and raised as the modelled
error class the code under test catches (PynamoDB wraps it as it would). Botocore's own retries are
behind this point, so an injected error is one the SDK has already given up on.

A fault can also let the call through and lose its answer (`answer_lost`): the write is applied but
the caller sees an error, the case that makes a retried write dangerous."""

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.client import BaseClient

THROTTLED = "ProvisionedThroughputExceededException"
THROTTLING = "ThrottlingException"
CANCELLED = "TransactionCanceledException"
UNPROCESSED = "unprocessed"
"""Not an error: BatchWriteItem writes half the items and hands back the rest as UnprocessedItems, as
DynamoDB does when a partition is throttled."""
PARTLY_DELETED = "partly deleted"
"""Not an error: S3's DeleteObjects deletes every object but the first, and answers 200 naming that one in
Errors (InternalError), as S3 does when some keys of a batch fail."""
CRASH = "crash"
"""Not an AWS error at all: the code blows up (a bug, an out-of-memory kill) in the middle of a batch."""


class InjectedCrash(RuntimeError):
    """What a CRASH fault raises."""


@dataclass
class Fault:
    """Fails matching calls: the first `times` of them (None: every one, a poison)."""

    service: str  # "dynamodb", "sqs", "apigatewaymanagementapi"
    operation: str  # "BatchWriteItem"
    error: str  # an AWS error code, TransactionConflict, UNPROCESSED, PARTLY_DELETED or CRASH
    when: Callable[[dict[str, Any]], bool] = lambda params: True
    times: int | None = 1
    answer_lost: bool = False  # the call is made, then its answer is lost
    injected: int = 0

    def applies(self, service: str, operation: str, params: dict[str, Any]) -> bool:
        if (service, operation) != (self.service, self.operation):
            return False
        if self.times is not None and self.injected >= self.times:
            return False
        return self.when(params)


def _error_response(fault: Fault, params: dict[str, Any]) -> dict[str, Any]:
    code, reasons = fault.error, None
    if fault.error == "TransactionConflict":
        code = CANCELLED
        reasons = [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}] * len(
            params.get("TransactItems", [])
        )
    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": f"Injected fault: {fault.error}"},
        "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {"x-amzn-requestid": "injected"}},
    }
    if reasons is not None:
        response["CancellationReasons"] = reasons
    return response


@dataclass
class FaultInjector:
    faults: list[Fault] = field(default_factory=list)
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    @property
    def injected(self) -> int:
        return sum(fault.injected for fault in self.faults)

    def clear(self) -> None:
        self.faults.clear()

    def _claim(self, service: str, operation: str, params: dict[str, Any]) -> Fault | None:
        with self._lock:
            self.calls[(service, operation)] += 1
            for fault in self.faults:
                if fault.applies(service, operation, params):
                    fault.injected += 1
                    return fault
        return None

    def call(self, original: Callable[..., Any], client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        service = client.meta.service_model.service_name
        fault = self._claim(service, operation, params)
        if fault is None:
            return original(client, operation, params)
        if fault.error == UNPROCESSED:
            (table, requests), *_ = params["RequestItems"].items()
            half = max(1, len(requests) // 2)
            original(client, operation, {**params, "RequestItems": {table: requests[:half]}})
            return {"UnprocessedItems": {table: requests[half:]} if requests[half:] else {}}
        if fault.error == PARTLY_DELETED:
            (refused, *deleted) = params["Delete"]["Objects"]
            if deleted:
                original(client, operation, {**params, "Delete": {**params["Delete"], "Objects": deleted}})
            error = {"Key": refused["Key"], "Code": "InternalError", "Message": "We encountered an internal error."}
            return {"Errors": [error], "ResponseMetadata": {"HTTPStatusCode": 200}}
        if fault.answer_lost:
            original(client, operation, params)
        if fault.error == CRASH:
            raise InjectedCrash(f"injected crash in {service}.{operation}")
        raise client.exceptions.from_code(fault.error)(_error_response(fault, params), operation)


@contextmanager
def injected_faults(monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultInjector]:
    injector = FaultInjector()
    original = BaseClient._make_api_call

    def make_api_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        return injector.call(original, client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", make_api_call)
    yield injector
