"""The social context's queue consumer, `on_post_deleted`: the posts table's records of a published post deleted
(from its stream router, through a FIFO queue of its own) — the post leaves every collection it was saved in. It
reports partial batch failures. The HTTP routes are `handler.py`'s: each function imports only its own entry
module."""

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.shared.observability import logger, metrics, tracer
from pinhole.social import logic
from pinhole.streams.logic import routed_change
from pinhole.streams.models import RoutedRecordMessage

deletions = SqsFifoPartialProcessor(model=RoutedRecordMessage, skip_group_on_error=True)


@tracer.capture_method
def post_deleted(record: RoutedRecordMessage) -> None:
    event_name, old, _ = routed_change(record)
    if event_name == "REMOVE" and old.get("post_id"):
        forgotten = logic.forget_saves_of(str(old["post_id"]))
        if forgotten:
            metrics.add_metric(name="SavesOfDeletedPosts", unit="Count", value=forgotten)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def on_post_deleted(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=post_deleted, processor=deletions, context=context)
