"""Lambda entry points of the resize context, which owns renditions from birth to deletion:
- `handler`: batches of upload events from SQS (S3 ObjectCreated notifications), each turned into
  renditions (a post's or story's media item, or an avatar, public; a photo or video message's, private); a
  failing record is retried alone, the rest proceed, and a picture failing on its last receive is rejected.
- `cleanup`: the posts table's REMOVE records (routed to its queue by the table's stream router): a deleted
  post's or expired story's renditions are deleted and queued for a CDN invalidation.
- `invalidate`: the media invalidations queue, many requests to one CloudFront invalidation; a request
  CloudFront refuses for now goes back to the queue, delayed (pinhole.resize.purge). It reports the messages
  to redeliver itself: one invalidation answers for the whole batch, not record by record."""

import json
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import S3Model, SqsModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.messaging.media import MessageUploadKey
from pinhole.resize.logic import process_avatar_upload, process_upload
from pinhole.resize.message_media import process_message_upload
from pinhole.resize.purge import Invalidator, purge_removed
from pinhole.shared.observability import logger, metrics, tracer
from pinhole.streams.logic import routed_record
from pinhole.streams.models import RoutedRecordMessage
from pinhole.upload.keys import is_avatar_key

processor = BatchProcessor(event_type=EventType.SQS)
removals = BatchProcessor(event_type=EventType.SQS, model=RoutedRecordMessage)
invalidator = Invalidator()

S3_TEST_EVENT = "s3:TestEvent"  # what S3 sends once when a notification is configured


@tracer.capture_method
def process_record(record: SQSRecord) -> None:
    body = json.loads(record.body)
    if body.get("Event") == S3_TEST_EVENT:
        return
    receive_count = int(record.attributes.approximate_receive_count)
    for s3_record in S3Model.model_validate(body).Records:
        obj = s3_record.s3.object
        if obj is None:  # an event about the bucket, not an object: nothing to resize
            continue
        key = unquote_plus(obj.key)
        message_key = MessageUploadKey.parse(key)
        if message_key is not None:
            outcome = process_message_upload(s3_record.s3.bucket.name, message_key, obj.versionId, receive_count)
            if outcome is not None:
                metrics.add_metric(name=f"MessageMedia{outcome.value.capitalize()}", unit="Count", value=1)
            continue
        if is_avatar_key(key):
            avatar = process_avatar_upload(s3_record.s3.bucket.name, key, obj.versionId, receive_count)
            if avatar is not None:
                metrics.add_metric(name=f"Avatar{avatar.value.capitalize()}", unit="Count", value=1)
            continue
        status = process_upload(s3_record.s3.bucket.name, key, obj.versionId, receive_count)
        if status is not None:
            metrics.add_metric(name=f"Media{status.value.capitalize()}", unit="Count", value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=process_record, processor=processor, context=context)


@tracer.capture_method
def post_removed(record: RoutedRecordMessage) -> None:
    deleted = purge_removed(routed_record(record))
    if deleted is not None:
        metrics.add_metric(name="RenditionsDeleted", unit="Count", value=deleted)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def cleanup(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=post_removed, processor=removals, context=context)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def invalidate(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    redeliver = invalidator.invalidate(parse(event=event, model=SqsModel).Records)
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in sorted(redeliver)]}
