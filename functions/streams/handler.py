"""Lambda entry point of the streams context: `route`, one function per table stream (its only reader),
sending each record to the queues of the consumers that want it (pinhole.streams.logic).

The batch is routed as a whole rather than record by record (Powertools' BatchProcessor): records leave in
SendMessageBatch calls that span records, and sending stops at the first failure so that no record of an
item overtakes an earlier one. The response reports that record and all after it; Lambda retries from there."""

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.shared.observability import logger, metrics, tracer
from pinhole.streams.logic import StreamRouter
from pinhole.streams.models import RouterConfig, StreamBatch

router = StreamRouter(RouterConfig.from_environment())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def route(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    records = parse(event=event, model=StreamBatch).Records
    first_failed = router.route(records)
    unsent = [] if first_failed is None else records[first_failed:]
    metrics.add_metric(name="RoutedRecords", unit="Count", value=len(records) - len(unsent))
    return {"batchItemFailures": [{"itemIdentifier": record.dynamodb.SequenceNumber} for record in unsent]}
