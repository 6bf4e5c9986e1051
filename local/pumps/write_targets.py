"""What an AWS write wrote to, in the names the pumps read by: `dynamodb:<table>`, `sqs:<queue>`, `s3:<bucket>`.

Every botocore client of the process (the handlers', PynamoDB's, the pumps' own) reports its writes through two
process-wide botocore events: `before-parameter-build` (the call's parameters: which table, queue or bucket) puts
the targets in the call's context, `after-call` (the write answered) wakes the pumps reading them. A write whose
target cannot be told (PartiQL names its table inside the statement) wakes every pump.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import boto3
from botocore.handlers import BUILTIN_HANDLERS

CONTEXT_KEY = "pinhole_pump_sources"
EVERY_SOURCE = None  # a write whose targets cannot be named


def table_source(table_name_or_arn: str) -> str:
    """`dynamodb:<table>`; DynamoDB accepts a table's ARN wherever it takes its name."""
    name = table_name_or_arn.split(":table/", 1)[1].split("/", 1)[0] if ":table/" in table_name_or_arn else None
    return f"dynamodb:{name or table_name_or_arn}"


def stream_source(stream_arn: str) -> str:
    """The table a stream belongs to (`arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>`)."""
    return table_source(stream_arn)


def queue_source(queue_url: str) -> str:
    """`sqs:<queue>`: the URL's last segment (clients and pumps may reach one queue at different endpoints)."""
    return f"sqs:{queue_url.rstrip('/').rsplit('/', 1)[-1]}"


def bucket_source(bucket: str) -> str:
    return f"s3:{bucket}"


def _transact_tables(params: dict[str, Any]) -> list[str]:
    return [
        action["TableName"]
        for item in params.get("TransactItems", [])
        for action in item.values()
        if isinstance(action, dict) and "TableName" in action
    ]


_BY_OPERATION: dict[str, Callable[[dict[str, Any]], Iterable[str] | None]] = {
    "PutItem": lambda params: [table_source(params["TableName"])],
    "UpdateItem": lambda params: [table_source(params["TableName"])],
    "DeleteItem": lambda params: [table_source(params["TableName"])],
    "BatchWriteItem": lambda params: [table_source(table) for table in params.get("RequestItems", {})],
    "TransactWriteItems": lambda params: [table_source(table) for table in _transact_tables(params)],
    "ExecuteStatement": lambda params: EVERY_SOURCE,
    "BatchExecuteStatement": lambda params: EVERY_SOURCE,
    "ExecuteTransaction": lambda params: EVERY_SOURCE,
    "SendMessage": lambda params: [queue_source(params["QueueUrl"])],
    "SendMessageBatch": lambda params: [queue_source(params["QueueUrl"])],
    "ChangeMessageVisibility": lambda params: [queue_source(params["QueueUrl"])],
    "ChangeMessageVisibilityBatch": lambda params: [queue_source(params["QueueUrl"])],
    "PutObject": lambda params: [bucket_source(params["Bucket"])],
    "CopyObject": lambda params: [bucket_source(params["Bucket"])],
    "CompleteMultipartUpload": lambda params: [bucket_source(params["Bucket"])],
    "DeleteObject": lambda params: [bucket_source(params["Bucket"])],
    "DeleteObjects": lambda params: [bucket_source(params["Bucket"])],
}


def targets_of(operation: str, params: dict[str, Any]) -> frozenset[str] | None:
    """The sources a write of `operation` with `params` can feed; None if they cannot be told (wake every pump).
    Raises KeyError for an operation that feeds no pump."""
    try:
        targets = _BY_OPERATION[operation](params)
    except (KeyError, TypeError, AttributeError, IndexError):
        if operation in _BY_OPERATION:
            return EVERY_SOURCE  # a malformed call: botocore refuses it before it is sent anyway
        raise
    return None if targets is None else frozenset(targets)


class WriteReporter:
    """The two botocore handlers: remember a write's targets before it is built, report them once answered."""

    def __init__(self, report: Callable[[Iterable[str] | None], None]) -> None:
        self.report = report

    def remember(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        operation = model.name
        if operation in _BY_OPERATION:
            context[CONTEXT_KEY] = (targets_of(operation, params),)

    def answered(self, context: dict[str, Any], **_: Any) -> None:
        remembered = context.get(CONTEXT_KEY)
        if remembered is not None:
            self.report(remembered[0])

    def register(self, events: Any) -> None:
        """On one client's or session's event system (tests); `install` does it for every session."""
        events.register("before-parameter-build", self.remember)
        events.register("after-call", self.answered)


_installed: list[WriteReporter] = []
_install_lock = threading.Lock()


def install(report: Callable[[Iterable[str] | None], None]) -> WriteReporter:
    """Reports every botocore write of this process from now on (sessions created after this call, and boto3's
    default session if it exists). Once per process: a later call changes whom the writes are reported to."""
    with _install_lock:
        if _installed:
            _installed[0].report = report
            return _installed[0]
        reporter = WriteReporter(report)
        BUILTIN_HANDLERS.append(("before-parameter-build", reporter.remember))
        BUILTIN_HANDLERS.append(("after-call", reporter.answered))
        if boto3.DEFAULT_SESSION is not None:
            reporter.register(boto3.DEFAULT_SESSION._session)
        _installed.append(reporter)
        return reporter
