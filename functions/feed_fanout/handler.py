"""Lambda entry points of the feed_fanout context, the push half of the hybrid feed:
- `on_post_change`: the posts table's records — a post or story published (or restored by a moderator) is
  pushed, a post deleted (or removed by a moderator) retracted (an expired story's entries expire by themselves);
- `on_follow_change`: the graph table's records — a follow backfills, an unfollow removes;
- `on_user_change`: the users table's records — crossing the celebrity threshold, either way;
- `deliver`: SQS chunks of a large fan-out, delivered concurrently by many workers.
The first three get their records from their tables' stream routers, through FIFO queues of their own: a
record that fails holds back the later records of its item only (skip_group_on_error). Each reports partial
batch failures, so only the failing records are retried."""

import json
from datetime import UTC, datetime

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.feed.fanout import FanOut
from pinhole.graph.dal import FOLLOWS
from pinhole.posts.models import PostKind
from pinhole.shared.observability import logger, metrics, tracer
from pinhole.streams.logic import routed_change
from pinhole.streams.models import RoutedRecordMessage

fanout = FanOut()
records = SqsFifoPartialProcessor(model=RoutedRecordMessage, skip_group_on_error=True)
queue = BatchProcessor(event_type=EventType.SQS)

PUBLISHED = "published"
REMOVED = "removed"


@tracer.capture_method
def post_changed(record: RoutedRecordMessage) -> None:
    event_name, old, new = routed_change(record)
    if new.get("status") == PUBLISHED and old.get("status") != PUBLISHED:
        if new.get("kind") == PostKind.STORY:
            expires_at = datetime.fromtimestamp(int(new["expires_at"]), UTC)
            report = fanout.story_published(new["post_id"], new["author_id"], expires_at)
        else:
            report = fanout.post_published(new["post_id"], new["author_id"])
    elif old.get("status") == PUBLISHED and (event_name == "REMOVE" or new.get("status") == REMOVED):
        # deleted, or removed by a moderator (a restore publishes it again, above)
        if old.get("kind") == PostKind.STORY:
            return  # expired or removed: the stories feed shows published stories only; entries expire with it
        report = fanout.post_deleted(old["post_id"], old["author_id"])
    else:
        return
    metrics.add_metric(name="FeedWriteRequests", unit="Count", value=report.requests)
    metrics.add_metric(name="FeedWriteRetries", unit="Count", value=report.retries)


@tracer.capture_method
def follow_changed(record: RoutedRecordMessage) -> None:
    event_name, old, new = routed_change(record)
    if event_name == "INSERT" and new.get("sk", "").startswith(FOLLOWS):
        fanout.followed(new["source_id"], new["target_id"])
    elif event_name == "REMOVE" and old.get("sk", "").startswith(FOLLOWS):
        fanout.unfollowed(old["source_id"], old["target_id"])


@tracer.capture_method
def user_changed(record: RoutedRecordMessage) -> None:
    _, old, new = routed_change(record)
    if new and old.get("follower_count") != new.get("follower_count"):
        fanout.follower_count_changed(new["user_id"], int(new.get("follower_count", 0)))


@tracer.capture_method
def chunk_received(record: SQSRecord) -> None:
    chunk = json.loads(record.body)
    report = fanout.deliver(
        chunk["op"],
        chunk["post_id"],
        chunk["author_id"],
        chunk["followers"],
        chunk.get("expires_at"),
        chunk.get("copies"),
    )
    metrics.add_metric(name="FeedWriteRequests", unit="Count", value=report.requests)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def on_post_change(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=post_changed, processor=records, context=context)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def on_follow_change(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=follow_changed, processor=records, context=context)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def on_user_change(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=user_changed, processor=records, context=context)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def deliver(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=chunk_received, processor=queue, context=context)
