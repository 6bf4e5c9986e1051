"""The users context's queue consumer, `on_made_public`: the users table's records of an account switched from private
to public (from its stream router, through a FIFO queue of its own) — its pending follow requests become follows, as
if approved. Asynchronous so that PATCH /me stays one write however many requests wait. It reports partial batch
failures. The HTTP routes are `handler.py`'s: each function imports only its own entry module."""

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.graph import logic as graph
from pinhole.shared.observability import logger, metrics, tracer
from pinhole.streams.logic import routed_change
from pinhole.streams.models import RoutedRecordMessage

changes = SqsFifoPartialProcessor(model=RoutedRecordMessage, skip_group_on_error=True)


@tracer.capture_method
def profile_changed(record: RoutedRecordMessage) -> None:
    event_name, old, new = routed_change(record)
    if event_name == "MODIFY" and old.get("is_private") is True and new.get("is_private") is False:
        approved = graph.approve_pending_requests(str(new["user_id"]))
        if approved:
            metrics.add_metric(name="FollowRequestsApprovedByGoingPublic", unit="Count", value=approved)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def on_made_public(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=profile_changed, processor=changes, context=context)
