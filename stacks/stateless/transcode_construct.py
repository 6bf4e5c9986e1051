"""transcode: turns each uploaded video (handed over by resize through the transcode queue) into the MP4 and HLS
ladders, a poster and a thumb in the media bucket, then records the outcome on its post (a message's video: the MP4
ladder, poster and thumb in the private message media bucket, then the message is delivered). It has its own role,
memory, timeout and /tmp (sized in docs/MEDIA.md "Sizing"), and is the only function with the ffmpeg layer, so it
can neither starve the API functions nor push another function's package over Lambda's 250 MB.

Its `dead_letter` function follows the transcode dead-letter queue: a video every attempt of which died (out of time
or memory past the watchdog) is rejected, so its post fails instead of waiting for the sweep."""

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks import constants
from stacks.function_factory import FunctionFactory
from stacks.stateful.media_construct import TRANSCODE_TIMEOUT
from stacks.stateless.alarms import alarm_on
from stacks.stateless.api_construct import WebSocketGateway
from stacks.stateless.grants import (
    grant_image_screening,
    grant_message_media,
    grant_objects,
    grant_rendition_removal,
    grant_table_read_write,
)
from stacks.stateless.resize_construct import grant_message_delivery

# docs/MEDIA.md "Sizing": ffmpeg's peak for a 90 s 4K HEVC HDR clip (3 rungs encoded at once) plus Python, with
# headroom; at this size Lambda gives the function 3 vCPUs, which x264 uses.
TRANSCODE_MEMORY_MB = 5308
# The original (≤ 200 MB), the MP4 rungs and their HLS copies (≤ ~2 × 160 MB at the bitrate caps for 90 s at 60 fps).
TRANSCODE_EPHEMERAL_STORAGE_MB = 2048
BATCH_SIZE = 1  # minutes of work per message: one at a time, so a failure retries only its own video
DEAD_LETTER_BATCH_SIZE = 10
OLDEST_VIDEO_ALARM_AGE = Duration.minutes(15)


class Transcode(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        imaging_layer: lambda_.ILayerVersion,
        video_layer: lambda_.ILayerVersion,
        transcode_queue: sqs.IQueue,
        transcode_dlq: sqs.IQueue,
        transcode_unsettled: sqs.IQueue,
        uploads_bucket: s3.IBucket,
        media_bucket: s3.IBucket,
        message_media_bucket: s3.IBucket,
        posts_table: dynamodb.ITableV2,
        users_table: dynamodb.ITableV2,
        moderation_table: dynamodb.ITableV2,
        tables: Mapping[str, dynamodb.ITableV2],
        websocket_api: WebSocketGateway,
        invalidations: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        code_dir = f"{constants.FUNCTIONS_DIR}/{constants.TRANSCODE}"
        self.function = factory.create(
            self,
            context=constants.TRANSCODE,
            code_dir=code_dir,
            memory_mb=TRANSCODE_MEMORY_MB,
            timeout=TRANSCODE_TIMEOUT,
            extra_layers=(imaging_layer, video_layer),
            ephemeral_storage_mb=TRANSCODE_EPHEMERAL_STORAGE_MB,
        )
        renditions = f"{constants.UPLOAD_KEY_PREFIX}*"
        grant_objects(self.function, uploads_bucket, renditions, ["s3:GetObject", "s3:GetObjectVersion"])
        # PutObject covers the multipart calls of a large upload; a failed one is aborted.
        grant_objects(self.function, media_bucket, renditions, ["s3:PutObject", "s3:AbortMultipartUpload"])
        # A post deleted while its video was transcoded: what was just written is listed, deleted and queued for
        # the CDN invalidator (pinhole.resize.purge).
        grant_rendition_removal(self.function, media_bucket, invalidations, constants.UPLOAD_KEY_PREFIX)
        grant_table_read_write(self.function, posts_table)
        grant_table_read_write(self.function, users_table)  # the author's post count, in the publish transaction
        grant_image_screening(self.function, moderation_table)  # the poster is screened like an image
        grant_message_delivery(self.function, uploads_bucket, message_media_bucket, tables, websocket_api)
        self.function.add_event_source(
            event_sources.SqsEventSource(transcode_queue, batch_size=BATCH_SIZE, report_batch_item_failures=True)
        )

        dead_letter_scope = Construct(self, "DeadLetters")
        self.dead_letter = factory.create(
            dead_letter_scope, context=constants.TRANSCODE, code_dir=code_dir, handler="handler.dead_letter"
        )
        grant_table_read_write(self.dead_letter, posts_table)
        # rejecting the last pending item publishes the post: the author's post count, in the same transaction
        grant_table_read_write(self.dead_letter, users_table)
        # a message's video given up on: its sender is told (messages table, their connections)
        grant_table_read_write(self.dead_letter, tables["messages"])
        grant_table_read_write(self.dead_letter, tables["connections"])
        websocket_api.grant_manage_connections(self.dead_letter)
        # a dropped message's media is removed: its renditions and its uploaded file
        grant_message_media(self.dead_letter, message_media_bucket, [])
        message_uploads = f"{constants.MESSAGE_UPLOAD_KEY_PREFIX}*"
        grant_objects(self.dead_letter, uploads_bucket, message_uploads, ["s3:DeleteObject"])
        self.dead_letter.add_event_source(
            event_sources.SqsEventSource(
                transcode_dlq, batch_size=DEAD_LETTER_BATCH_SIZE, report_batch_item_failures=True
            )
        )
        alarm_on(
            self,
            "GivenUpAlarm",
            "A video every transcode attempt of which died (it is rejected): see the transcode function's logs",
            transcode_dlq.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
            1,
        )
        alarm_on(
            self,
            "UnsettledAlarm",
            "The transcode dead-letter consumer could not reject a video: it stays pending until the sweep",
            transcode_unsettled.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
            1,
        )
        alarm_on(
            self,
            "BacklogAlarm",
            "Videos wait too long for transcode",
            transcode_queue.metric_approximate_age_of_oldest_message(period=Duration.minutes(1)),
            OLDEST_VIDEO_ALARM_AGE.to_seconds(),
            evaluation_periods=3,
        )
        alarm_on(self, "ErrorsAlarm", "transcode fails", self.function.metric_errors(period=Duration.minutes(5)), 1)
