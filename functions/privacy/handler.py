"""Lambda entry points of the privacy context:
- `handler`: DELETE /me, POST /me/reactivate, POST and GET /me/export (JWT);
- `on_deletion_due`: the privacy table's stream, through its router — a deletion marker removed by its TTL
  starts the purge, if that deletion is still the account's and due (never a reactivation's removal);
- `purge`: the purge queue — one account's purge, resumed where it stopped, continued in a new message when
  the invocation's time runs out;
- `export`: the export queue — one data export streamed into a zip on S3.
The consumers report partial batch failures; a message that keeps failing goes to its dead-letter queue."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.privacy import logic
from pinhole.privacy.models import (
    DeleteAccountRequest,
    DeletionScheduled,
    ExportStarted,
    ExportView,
)
from pinhole.privacy.purge import purge_account
from pinhole.privacy.queue_records import ExportMessage, PurgeMessage
from pinhole.shared.api import BEARER_AUTH, apply_api_conventions, current_caller
from pinhole.shared.observability import logger, metrics, tracer
from pinhole.streams.logic import routed_record
from pinhole.streams.models import RoutedRecordMessage
from pinhole.users.models import Me

# A purge stops this long before the invocation's end and continues in a new message.
PURGE_MARGIN_MS = 30_000
EXPORT_MAX_RECEIVES = 3  # stacks/stateful/privacy_construct.py: the export queue's redrive policy

app = APIGatewayHttpResolver(enable_validation=True)
apply_api_conventions(app)
streams = SqsFifoPartialProcessor(model=RoutedRecordMessage, skip_group_on_error=True)
purges = BatchProcessor(event_type=EventType.SQS, model=PurgeMessage)
exports = BatchProcessor(event_type=EventType.SQS, model=ExportMessage)


@app.delete(
    "/me",
    summary="Delete my account: deactivated at once, purged after the grace period unless I log in again",
    tags=["privacy"],
    security=BEARER_AUTH,
    status_code=202,
)
@tracer.capture_method
def delete_me(request: Annotated[DeleteAccountRequest, Body()]) -> DeletionScheduled:
    return logic.delete_account(current_caller(app, deleted_may=True), request.password)


@app.post(
    "/me/reactivate",
    summary="Cancel the deletion of my account within its grace period",
    tags=["privacy"],
    security=BEARER_AUTH,
)
@tracer.capture_method
def reactivate() -> Me:
    return logic.reactivate(current_caller(app, deleted_may=True))


@app.post(
    "/me/export",
    summary="Start an export of all my data (at most once a day)",
    tags=["privacy"],
    security=BEARER_AUTH,
    status_code=202,
)
@tracer.capture_method
def request_export() -> ExportStarted:
    return logic.request_export(current_caller(app, deleted_may=True))


@app.get("/me/export", summary="My latest export: its status and download link", tags=["privacy"], security=BEARER_AUTH)
@tracer.capture_method
def export_status() -> ExportView:
    return logic.export_status(current_caller(app, deleted_may=True))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)


@tracer.capture_method
def deletion_removed(record: RoutedRecordMessage) -> None:
    if logic.marker_removed(routed_record(record)):
        metrics.add_metric(name="PurgesStarted", unit="Count", value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def on_deletion_due(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=deletion_removed, processor=streams, context=context)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def purge(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    def purge_one(record: PurgeMessage) -> None:
        deadline_ms = context.get_remaining_time_in_millis() - PURGE_MARGIN_MS
        if purge_account(record.body.user_id, deadline=logic.deadline_in(deadline_ms / 1000)):
            metrics.add_metric(name="AccountsPurged", unit="Count", value=1)
        else:
            logic.continue_purge(record.body.user_id)

    return process_partial_response(event=event, record_handler=purge_one, processor=purges, context=context)


@tracer.capture_method
def export_one(record: ExportMessage) -> None:
    try:
        if logic.run_export(record.body):
            metrics.add_metric(name="ExportsReady", unit="Count", value=1)
    except Exception:
        if int(record.attributes.ApproximateReceiveCount) >= EXPORT_MAX_RECEIVES:
            logic.fail_export(record.body)
        raise


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def export(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=export_one, processor=exports, context=context)
