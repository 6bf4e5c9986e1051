"""resize: turns each uploaded picture into renditions in the media bucket, then records the outcome
on its post (publishing it when it was the last media item); an uploaded video is handed to transcode's
queue; a photo message's original becomes private renditions in the message media bucket, and the message
is delivered to the conversation's members. Fed by the upload-events queue, so a failing batch is retried
and then parked in the dead-letter queue, which raises an alarm.

Resize owns renditions until they are gone. Its `cleanup` function gets the posts table's REMOVE records
(from the table's stream router): a deleted post's or expired story's renditions are deleted, then their
paths are queued for a CDN invalidation (resize itself does the same for renditions it made for a post
deleted meanwhile). Its `invalidate` function drains that queue into CloudFront invalidations, many paths
each, within CloudFront's quotas, and waits out CloudFront's refusals, so that deleted media stops being
served however many deletions and expiries come at once (pinhole.resize.purge)."""

from collections.abc import Mapping

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks import constants
from stacks.function_factory import FunctionFactory
from stacks.stateful.media_construct import RESIZE_TIMEOUT
from stacks.stateful.media_invalidations_construct import INVALIDATE_TIMEOUT, MediaInvalidations
from stacks.stateless.alarms import alarm_on
from stacks.stateless.api_construct import WebSocketGateway
from stacks.stateless.event_sources import consume_queue
from stacks.stateless.grants import (
    grant_image_screening,
    grant_message_media,
    grant_objects,
    grant_rendition_removal,
    grant_table_read_write,
)
from stacks.stateless.streams_construct import REMOVED, StreamRoutes

# A 50 MP original decodes to 150 MB of RGB; the headroom covers the colour conversion and encoders,
# and Lambda's CPU share grows with memory (the encoders are CPU bound).
RESIZE_MEMORY_MB = 2048
BATCH_SIZE = 4
OLDEST_UPLOAD_ALARM_AGE = Duration.minutes(5)
CLEANUP_BATCH_SIZE = 10
INVALIDATE_BATCH_SIZE = 100
INVALIDATE_BATCHING_WINDOW = Duration.seconds(20)  # a burst of deletions becomes one invalidation
# Two invalidators at most, each asking for at most half of the 3,000 paths CloudFront lets a distribution
# have in progress (pinhole.resize.purge.MAX_PATHS_PER_INVALIDATION).
INVALIDATE_MAX_CONCURRENCY = 2


def grant_message_delivery(
    function: lambda_.Function,
    uploads_bucket: s3.IBucket,
    message_media_bucket: s3.IBucket,
    tables: Mapping[str, dynamodb.ITableV2],
    websocket_api: WebSocketGateway,
) -> None:
    """Photo and video messages (pinhole.resize.message_media, pinhole.transcode.logic): read the original, write
    (or, for a message unsent or dropped meanwhile, delete) the private renditions, deliver the message and push it
    to open connections. PutObject covers the multipart calls of a large video; a failed one is aborted."""
    # DeleteObject: the uploaded file of a message dropped because its sender left before it was ready
    originals = ["s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject"]
    grant_objects(function, uploads_bucket, f"{constants.MESSAGE_UPLOAD_KEY_PREFIX}*", originals)
    # GetObject: the message it pushes carries rendition URLs signed by this role
    grant_message_media(function, message_media_bucket, ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"])
    grant_table_read_write(function, tables["messages"])
    grant_table_read_write(function, tables["connections"])  # forgets connections found gone
    websocket_api.grant_manage_connections(function)


class Resize(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        imaging_layers: tuple[lambda_.ILayerVersion, ...],
        upload_events: sqs.IQueue,
        transcode_queue: sqs.IQueue,
        upload_events_dlq: sqs.IQueue,
        uploads_bucket: s3.IBucket,
        media_bucket: s3.IBucket,
        message_media_bucket: s3.IBucket,
        posts_table: dynamodb.ITableV2,
        users_table: dynamodb.ITableV2,
        moderation_table: dynamodb.ITableV2,
        tables: Mapping[str, dynamodb.ITableV2],
        websocket_api: WebSocketGateway,
        distribution: cloudfront.IDistribution,
        invalidations: MediaInvalidations,
        stream_routes: StreamRoutes,
    ) -> None:
        super().__init__(scope, construct_id)
        self._media_bucket = media_bucket
        self._invalidations = invalidations
        self.function = factory.create(
            self,
            context=constants.RESIZE,
            code_dir=f"{constants.FUNCTIONS_DIR}/{constants.RESIZE}",
            memory_mb=RESIZE_MEMORY_MB,
            timeout=RESIZE_TIMEOUT,
            extra_layers=imaging_layers,
        )
        originals = ["s3:GetObject", "s3:GetObjectVersion"]
        grant_objects(self.function, uploads_bucket, f"{constants.UPLOAD_KEY_PREFIX}*", originals)
        grant_objects(self.function, media_bucket, f"{constants.UPLOAD_KEY_PREFIX}*", ["s3:PutObject"])
        # Avatars: the original in, square renditions out, and the previous avatar's renditions removed.
        grant_objects(self.function, uploads_bucket, f"{constants.AVATAR_KEY_PREFIX}*", originals)
        grant_objects(self.function, media_bucket, f"{constants.AVATAR_KEY_PREFIX}*", ["s3:PutObject"])
        grant_rendition_removal(self.function, media_bucket, invalidations.queue, constants.AVATAR_KEY_PREFIX)
        grant_table_read_write(self.function, posts_table)
        grant_table_read_write(self.function, users_table)  # the author's post count, in the publish transaction
        grant_image_screening(self.function, moderation_table)  # each image; a video's poster in transcode
        self._may_delete_renditions(self.function)  # made for a post deleted meanwhile
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[transcode_queue.queue_arn])
        )
        grant_message_delivery(self.function, uploads_bucket, message_media_bucket, tables, websocket_api)
        self.function.add_event_source(
            event_sources.SqsEventSource(upload_events, batch_size=BATCH_SIZE, report_batch_item_failures=True)
        )
        self._cleanup(factory, stream_routes)
        self._invalidator(factory, distribution)
        alarm_on(
            self,
            "DeadLettersAlarm",
            "Uploads resize gave up on: see the upload-events dead-letter queue",
            upload_events_dlq.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
            1,
        )
        alarm_on(
            self,
            "BacklogAlarm",
            "Uploads wait too long for resize",
            upload_events.metric_approximate_age_of_oldest_message(period=Duration.minutes(1)),
            OLDEST_UPLOAD_ALARM_AGE.to_seconds(),
            evaluation_periods=3,
        )
        alarm_on(self, "ErrorsAlarm", "resize fails", self.function.metric_errors(period=Duration.minutes(5)), 1)

    def _may_delete_renditions(self, function: lambda_.Function) -> None:
        """Rendition deletion: list and delete under posts/, then queue the paths for a CDN invalidation."""
        grant_rendition_removal(function, self._media_bucket, self._invalidations.queue, constants.UPLOAD_KEY_PREFIX)

    def _cleanup(self, factory: FunctionFactory, stream_routes: StreamRoutes) -> None:
        scope = Construct(self, "Cleanup")
        self.cleanup = factory.create(
            scope,
            context=constants.RESIZE,
            code_dir=f"{constants.FUNCTIONS_DIR}/{constants.RESIZE}",
            handler="handler.cleanup",
        )
        self._may_delete_renditions(self.cleanup)
        # A post's REMOVE comes once and cleaning up is idempotent: no order to keep, a standard queue.
        stream_routes.subscribe(
            self.cleanup,
            {"posts": [REMOVED]},
            what="Rendition cleanup",
            ordered=False,
            batch_size=CLEANUP_BATCH_SIZE,
        )

    def _invalidator(self, factory: FunctionFactory, distribution: cloudfront.IDistribution) -> None:
        scope = Construct(self, "Invalidator")
        self.invalidator = factory.create(
            scope,
            context=constants.RESIZE,
            code_dir=f"{constants.FUNCTIONS_DIR}/{constants.RESIZE}",
            handler="handler.invalidate",
            timeout=INVALIDATE_TIMEOUT,
        )
        self.invalidator.add_to_role_policy(
            iam.PolicyStatement(
                actions=["cloudfront:CreateInvalidation"],
                resources=[
                    Stack.of(self).format_arn(
                        service="cloudfront",
                        region="",
                        resource="distribution",
                        resource_name=distribution.distribution_id,
                    )
                ],
            )
        )
        self._invalidations.queue.grant_send_messages(self.invalidator)  # what CloudFront refuses waits again
        consume_queue(
            scope,
            self.invalidator,
            self._invalidations.queue,
            self._invalidations.dlq,
            what="CDN invalidations",
            batch_size=INVALIDATE_BATCH_SIZE,
            max_batching_window=INVALIDATE_BATCHING_WINDOW,
            max_concurrency=INVALIDATE_MAX_CONCURRENCY,
        )
        alarm_on(
            scope,
            "BacklogAlarm",
            "Deleted media waits too long to leave the CDN",
            self._invalidations.queue.metric_approximate_age_of_oldest_message(period=Duration.minutes(1)),
            Duration.minutes(30).to_seconds(),
            evaluation_periods=3,
        )
