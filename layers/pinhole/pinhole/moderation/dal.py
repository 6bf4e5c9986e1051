"""Persistence of moderation: one table. PynamoDB objects never leave this module.

    pk = case#<case_id>   sk = case                 the case: target, author, status, severity, report_count,
                                                    reasons {reason: open reports}, labels, and its queue
                                                    keys (queue-index: the cases of each status, in order)
    pk = case#<case_id>   sk = report#<report_id>   a report: reporter, reason, note, status (by-reporter-index:
                                                    a reporter's reports, newest first)
    pk = case#<case_id>   sk = reporter#<user_id>   the reporter's open report of this target (one at a time)
    pk = log              sk = <entry ULID>         the audit log, written once each (moderators' actions are few:
                                                    one partition takes 1,000 writes a second)
    pk = intent           sk = <entry ULID>         an action begun: its log entry, written before the action takes
                                                    effect, moved into the log (one transaction) once it has

A case id is derived from its target, so every report of one target lands in the one case, and a report, its
guard and the case's counters are written in one transaction conditioned on the guard's absence and the case's
version: a repeated report stores nothing, and concurrent reports each count once. The queue
key sorts by severity, then report count, then age, so the queue is one Query of the index. Log entries are only
ever put, conditioned on their absence; nothing in the code updates or deletes them.

No action goes unlogged: its entry is written first, as an intent, and only then does the action touch the posts,
comments, messages, profiles or Cognito (tables and services no single transaction spans). When it has taken
effect, one transaction puts the log entry and deletes the intent; when it was refused (it did not apply), the
intent is withdrawn. An intent left behind (the function failed or timed out in between) is moved into the log by
the next action or log read, marked unconfirmed: it may or may not have taken effect."""

import json
from typing import Any

from pynamodb.attributes import BooleanAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from pinhole.moderation.models import (
    CaseRecord,
    CaseStatus,
    LogRecord,
    ReportRecord,
    ReportStatus,
)
from pinhole.shared.settings import get_settings
from pinhole.shared.transactions import commit

_settings = get_settings()

CASE = "case"
REPORT = "report#"
REPORTER = "reporter#"
LOG = "log"
INTENT = "intent"
SEVERITY_MAX = 9
COUNT_DIGITS = 9


def queue_key(status: CaseStatus) -> str:
    return f"queue#{status.value}"


def case_key(case_id: str) -> str:
    return f"case#{case_id}"


def queue_position(severity: int, report_count: int, opened_at: str) -> str:
    """Ascending order of the open queue: most severe first, then most reported, then oldest."""
    count = min(report_count, 10**COUNT_DIGITS - 1)
    return f"{SEVERITY_MAX - severity}#{10**COUNT_DIGITS - 1 - count:0{COUNT_DIGITS}d}#{opened_at}"


class QueueIndex(GlobalSecondaryIndex["ModerationModel"]):
    """Cases by status (`queue#open`, `queue#actioned`, `queue#dismissed`), in queue order."""

    class Meta:
        index_name = "queue-index"
        projection = AllProjection()

    queue = UnicodeAttribute(hash_key=True)
    queue_position = UnicodeAttribute(range_key=True)


class ByReporterIndex(GlobalSecondaryIndex["ModerationModel"]):
    """Sparse: only reports carry `reporter_id`; a reporter's reports, newest first."""

    class Meta:
        index_name = "by-reporter-index"
        projection = AllProjection()

    reporter_id = UnicodeAttribute(hash_key=True)
    report_id = UnicodeAttribute(range_key=True)


class ModerationModel(Model):
    class Meta:
        table_name = _settings.moderation_table_name
        region = _settings.region
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    case_id = UnicodeAttribute(null=True)
    target_type = UnicodeAttribute(null=True)
    target_id = UnicodeAttribute(null=True)
    author_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    severity = NumberAttribute(null=True)
    report_count = NumberAttribute(null=True)
    reasons: MapAttribute[str, Any] = MapAttribute(null=True)
    labels = UnicodeAttribute(null=True)  # JSON: a list of Label
    opened_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    last_action = UnicodeAttribute(null=True)
    version = NumberAttribute(null=True)
    queue = UnicodeAttribute(null=True)
    queue_position = UnicodeAttribute(null=True)
    report_id = UnicodeAttribute(null=True)
    reporter_id = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    entry_id = UnicodeAttribute(null=True)
    action = UnicodeAttribute(null=True)
    moderator_id = UnicodeAttribute(null=True)
    moderator_username = UnicodeAttribute(null=True)
    at = UnicodeAttribute(null=True)

    unconfirmed = BooleanAttribute(null=True)

    by_queue = QueueIndex()
    by_reporter = ByReporterIndex()


def _values(item: ModerationModel, fields: dict[str, Any]) -> dict[str, Any]:
    values = {name: item.attribute_values.get(name) for name in fields}
    return {name: value for name, value in values.items() if value is not None}


def _plain(value: Any) -> Any:
    return value.as_dict() if isinstance(value, MapAttribute) else value


def _to_case(item: ModerationModel) -> CaseRecord:
    values = _values(item, CaseRecord.model_fields)
    values["reasons"] = {reason: int(count) for reason, count in (_plain(values.get("reasons")) or {}).items()}
    values["labels"] = json.loads(values.get("labels") or "[]")
    return CaseRecord.model_validate(values)


def _to_report(item: ModerationModel) -> ReportRecord:
    return ReportRecord.model_validate(_values(item, ReportRecord.model_fields))


def _case_item(case: CaseRecord) -> ModerationModel:
    values = case.model_dump(mode="json", exclude={"labels"})
    item = ModerationModel(
        pk=case_key(case.case_id), sk=CASE, labels=json.dumps([label.model_dump() for label in case.labels]), **values
    )
    item.queue = queue_key(case.status)
    item.queue_position = queue_position(case.severity, case.report_count, case.opened_at)
    return item


def _report_item(report: ReportRecord) -> ModerationModel:
    return ModerationModel(
        pk=case_key(report.case_id), sk=f"{REPORT}{report.report_id}", **report.model_dump(mode="json")
    )


def _log_item(pk: str, entry: LogRecord) -> ModerationModel:
    values = entry.model_dump(mode="json", exclude={"unconfirmed"})
    return ModerationModel(pk=pk, sk=entry.entry_id, unconfirmed=entry.unconfirmed or None, **values)


def _to_log_record(item: ModerationModel) -> LogRecord:
    return LogRecord.model_validate(_values(item, LogRecord.model_fields))


class ModerationRepository:
    def __init__(self) -> None:
        self._connection = Connection(region=_settings.region)

    def case(self, case_id: str) -> CaseRecord | None:
        try:
            return _to_case(ModerationModel.get(case_key(case_id), CASE, consistent_read=True))
        except DoesNotExist:
            return None

    def last_report_of(self, case_id: str, reporter_id: str) -> ReportRecord | None:
        """The reporter's latest report of this case's target, open or settled, if any."""
        try:
            guard = ModerationModel.get(case_key(case_id), f"{REPORTER}{reporter_id}", consistent_read=True)
            report = ModerationModel.get(case_key(case_id), f"{REPORT}{guard.report_id}", consistent_read=True)
        except DoesNotExist:
            return None
        return _to_report(report)

    def file(
        self, report: ReportRecord, replacing: ReportRecord | None, before: CaseRecord | None, after: CaseRecord
    ) -> bool:
        """Stores the report and the case as `after` counts it, if the case is still as `before` (None: absent) and
        the reporter's latest report is still `replacing` (None: they have none); False otherwise (the caller reads
        again and retries, and then finds the report that won)."""
        guard_key = f"{REPORTER}{report.reporter_id}"
        guard_condition: Condition
        if replacing is None:
            guard_condition = ModerationModel.pk.does_not_exist()
        else:
            guard_condition = ModerationModel.report_id == replacing.report_id

        def build(transaction: TransactWrite) -> None:
            case_condition: Condition
            if before is None:
                case_condition = ModerationModel.pk.does_not_exist()
            else:
                case_condition = ModerationModel.version == before.version
            transaction.save(_case_item(after), condition=case_condition)
            transaction.save(_report_item(report), condition=ModerationModel.pk.does_not_exist())
            transaction.save(
                ModerationModel(pk=case_key(report.case_id), sk=guard_key, report_id=report.report_id),
                condition=guard_condition,
            )

        return commit(build, self._connection)

    def open_case(self, case: CaseRecord) -> bool:
        """Creates the case (automatic screening); False if the target has one already."""
        try:
            _case_item(case).save(condition=ModerationModel.pk.does_not_exist())
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def settle(self, before: CaseRecord, after: CaseRecord, report_status: ReportStatus | None) -> bool:
        """Writes the case as `after` if it is still as `before`; then, when `report_status` is given, every open
        report of the case takes it (each report written once: a retry finds none left open)."""

        def build(transaction: TransactWrite) -> None:
            condition = ModerationModel.version == before.version
            transaction.save(_case_item(after), condition=condition)

        if not commit(build, self._connection):
            return False
        if report_status is not None:
            for report in self.reports(after.case_id):
                if report.status == ReportStatus.OPEN:
                    item = ModerationModel(pk=case_key(after.case_id), sk=f"{REPORT}{report.report_id}")
                    item.update(actions=[ModerationModel.status.set(report_status.value)])
        return True

    def reports(self, case_id: str) -> list[ReportRecord]:
        return [
            _to_report(item) for item in ModerationModel.query(case_key(case_id), ModerationModel.sk.startswith(REPORT))
        ]

    def queue(
        self, status: CaseStatus, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[CaseRecord], dict[str, Any] | None]:
        results = ModerationModel.by_queue.query(queue_key(status), limit=limit, last_evaluated_key=after)
        return [_to_case(item) for item in results], results.last_evaluated_key

    def reports_by(
        self, reporter_id: str, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[ReportRecord], dict[str, Any] | None]:
        results = ModerationModel.by_reporter.query(
            reporter_id, scan_index_forward=False, limit=limit, last_evaluated_key=after
        )
        return [_to_report(item) for item in results], results.last_evaluated_key

    def begin(self, entry: LogRecord) -> None:
        """Records the action about to be taken, before it touches anything (its entry as an intent)."""
        _log_item(INTENT, entry).save(condition=ModerationModel.pk.does_not_exist())

    def withdraw(self, entry: LogRecord) -> None:
        """The action was refused before it took any effect: nothing to log."""
        ModerationModel(pk=INTENT, sk=entry.entry_id).delete()

    def complete(self, entry: LogRecord) -> bool:
        """The action took effect (or, `entry.unconfirmed`, may have): its log entry in, its intent out, in one
        transaction; False if another call moved it already (the entry is in the log either way)."""

        def build(transaction: TransactWrite) -> None:
            transaction.save(_log_item(LOG, entry), condition=ModerationModel.pk.does_not_exist())
            transaction.delete(ModerationModel(pk=INTENT, sk=entry.entry_id), condition=ModerationModel.pk.exists())

        return commit(build, self._connection)

    def intents_begun_before(self, entry_id: str) -> list[LogRecord]:
        """Intents older than `entry_id` (a ULID of a moment): actions begun then and never completed."""
        return [_to_log_record(item) for item in ModerationModel.query(INTENT, ModerationModel.sk < entry_id)]

    def log(self, limit: int, after: dict[str, Any] | None) -> tuple[list[LogRecord], dict[str, Any] | None]:
        """The audit log, newest first."""
        results = ModerationModel.query(LOG, scan_index_forward=False, limit=limit, last_evaluated_key=after)
        return [_to_log_record(item) for item in results], results.last_evaluated_key
