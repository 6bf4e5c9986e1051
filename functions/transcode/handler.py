"""Lambda entry points of the transcode context:
- `handler`: the transcode queue (one uploaded video a message, from resize), each turned into the MP4 and HLS
  ladders, a poster and a thumb; a failure is retried by the queue, then parked in its dead-letter queue.
- `dead_letter`: that dead-letter queue; a video every attempt of which died is rejected, so its post fails."""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.shared.observability import logger, metrics, tracer
from pinhole.transcode.logic import give_up, transcode_upload
from pinhole.transcode.models import TranscodeRequest

processor = BatchProcessor(event_type=EventType.SQS)
dead_letter_processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method
def transcode_record(record: SQSRecord, lambda_context: LambdaContext) -> None:
    request = TranscodeRequest.model_validate_json(record.body)
    remaining_s = lambda_context.get_remaining_time_in_millis() / 1000
    status = transcode_upload(request, attempt_id=record.message_id, remaining_s=remaining_s)
    if status is not None:
        metrics.add_metric(name=f"Video{status.value.capitalize()}", unit="Count", value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=transcode_record, processor=processor, context=context)


@tracer.capture_method
def dead_letter_record(record: SQSRecord) -> None:
    if give_up(TranscodeRequest.model_validate_json(record.body)) is not None:
        metrics.add_metric(name="VideoGivenUp", unit="Count", value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def dead_letter(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=dead_letter_record, processor=dead_letter_processor, context=context
    )
