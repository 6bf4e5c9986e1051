"""Lambda entry points of the resize context, which owns renditions from birth to deletion:
- `handler`: batches of upload events from SQS (S3 ObjectCreated notifications), each turned into
  renditions (a post's or story's, public; a photo message's, private); a failing record is retried
  alone, the rest proceed.
- `cleanup`: the posts table's stream; a deleted post's renditions are deleted and purged from the CDN."""

import json
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord, DynamoDBRecordEventName
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser.models import S3Model
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.messaging.media import MessageUploadKey
from pinhole.resize.logic import process_upload, remove_renditions
from pinhole.resize.message_media import process_message_upload
from pinhole.shared.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS)
stream_processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

S3_TEST_EVENT = "s3:TestEvent"  # what S3 sends once when a notification is configured


@tracer.capture_method
def process_record(record: SQSRecord) -> None:
    body = json.loads(record.body)
    if body.get("Event") == S3_TEST_EVENT:
        return
    for s3_record in S3Model.model_validate(body).Records:
        obj = s3_record.s3.object
        if obj is None:  # an event about the bucket, not an object: nothing to resize
            continue
        key = unquote_plus(obj.key)
        message_key = MessageUploadKey.parse(key)
        if message_key is not None:
            outcome = process_message_upload(s3_record.s3.bucket.name, message_key, obj.versionId)
            if outcome is not None:
                metrics.add_metric(name=f"MessageMedia{outcome.value.capitalize()}", unit="Count", value=1)
            continue
        status = process_upload(s3_record.s3.bucket.name, key, obj.versionId)
        if status is not None:
            metrics.add_metric(name=f"Media{status.value.capitalize()}", unit="Count", value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=process_record, processor=processor, context=context)


@tracer.capture_method
def cleanup_record(record: DynamoDBRecord) -> None:
    if record.event_name != DynamoDBRecordEventName.REMOVE or record.dynamodb is None:
        return
    post_id = record.dynamodb.keys["post_id"]
    deleted = remove_renditions(post_id)
    logger.info("Renditions of a deleted post removed", extra={"post_id": post_id, "objects": deleted})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def cleanup(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=cleanup_record, processor=stream_processor, context=context
    )
