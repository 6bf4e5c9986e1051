"""The search context's queue consumer, `on_change`: the users and posts tables' records (from their stream routers,
through a FIFO queue of its own) — the index follows names, follower counts and published or deleted posts. It
reports partial batch failures; a failed record holds back the later records of its item only. The HTTP routes are
`handler.py`'s: each function imports only its own entry module."""

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.search import logic
from pinhole.shared.observability import logger, metrics, tracer
from pinhole.streams.logic import routed_record
from pinhole.streams.models import RoutedRecordMessage

indexer = logic.SearchIndexer()
changes = SqsFifoPartialProcessor(model=RoutedRecordMessage, skip_group_on_error=True)


@tracer.capture_method
def record_changed(record: RoutedRecordMessage) -> None:
    changed = indexer.apply(routed_record(record))
    if changed:
        metrics.add_metric(name="SearchIndexChanges", unit="Count", value=changed)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def on_change(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_changed, processor=changes, context=context)
