"""resize: turns each uploaded original into renditions in the media bucket, then records the outcome
on its post (publishing it when it was the last media item). Fed by the upload-events queue, so a
failing batch is retried and then parked in the dead-letter queue, which raises an alarm.

Its `cleanup` function follows the posts table's stream: a deleted post's renditions are deleted and
purged from CloudFront, so they stop being served."""

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
from stacks.stateless.alarms import alarm_on
from stacks.stateless.grants import grant_objects, grant_table_read_write

# A 50 MP original decodes to 150 MB of RGB; the headroom covers the colour conversion and encoders,
# and Lambda's CPU share grows with memory (ffmpeg and the encoders are CPU bound).
RESIZE_MEMORY_MB = 2048
BATCH_SIZE = 4
OLDEST_UPLOAD_ALARM_AGE = Duration.minutes(5)
CLEANUP_BATCH_SIZE = 25
CLEANUP_RETRIES = 5
CLEANUP_ITERATOR_AGE_ALARM = Duration.minutes(10)


class Resize(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        imaging_layer: lambda_.ILayerVersion,
        upload_events: sqs.IQueue,
        upload_events_dlq: sqs.IQueue,
        uploads_bucket: s3.IBucket,
        media_bucket: s3.IBucket,
        posts_table: dynamodb.ITableV2,
        users_table: dynamodb.ITableV2,
        moderation_table: dynamodb.ITableV2,
        distribution: cloudfront.IDistribution,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = factory.create(
            self,
            context=constants.RESIZE,
            code_dir=f"{constants.FUNCTIONS_DIR}/{constants.RESIZE}",
            memory_mb=RESIZE_MEMORY_MB,
            timeout=RESIZE_TIMEOUT,
            extra_layers=(imaging_layer,),
        )
        originals = ["s3:GetObject", "s3:GetObjectVersion"]
        grant_objects(self.function, uploads_bucket, f"{constants.UPLOAD_KEY_PREFIX}*", originals)
        grant_objects(self.function, media_bucket, f"{constants.UPLOAD_KEY_PREFIX}*", ["s3:PutObject"])
        grant_table_read_write(self.function, posts_table)
        grant_table_read_write(self.function, users_table)  # the author's post count, in the publish transaction
        # Automatic screening (context `image_moderation`): a flagged post is held and a case opened. Granted whether
        # the switch is on or off, so turning it on changes one variable, not the role. DetectModerationLabels has no
        # resource-level permissions (Service Authorization Reference): its resource is `*`.
        grant_table_read_write(self.function, moderation_table)
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=["rekognition:DetectModerationLabels"], resources=["*"])
        )
        # A post deleted while its upload is processed: resize removes the renditions it just wrote.
        self._grant_rendition_removal(self.function, media_bucket, distribution)
        self.function.add_event_source(
            event_sources.SqsEventSource(upload_events, batch_size=BATCH_SIZE, report_batch_item_failures=True)
        )
        self._cleanup(factory, posts_table, media_bucket, distribution)
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

    def _grant_rendition_removal(
        self, function: lambda_.Function, media_bucket: s3.IBucket, distribution: cloudfront.IDistribution
    ) -> None:
        """What `MediaStorage.delete_renditions` calls: list and delete a post's renditions, purge the CDN."""
        grant_objects(function, media_bucket, f"{constants.UPLOAD_KEY_PREFIX}*", ["s3:DeleteObject"])
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[media_bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{constants.UPLOAD_KEY_PREFIX}*"]}},
            )
        )
        function.add_to_role_policy(
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

    def _cleanup(
        self,
        factory: FunctionFactory,
        posts_table: dynamodb.ITableV2,
        media_bucket: s3.IBucket,
        distribution: cloudfront.IDistribution,
    ) -> None:
        scope = Construct(self, "Cleanup")
        self.cleanup = factory.create(
            scope,
            context=constants.RESIZE,
            code_dir=f"{constants.FUNCTIONS_DIR}/{constants.RESIZE}",
            handler="handler.cleanup",
        )
        self._grant_rendition_removal(self.cleanup, media_bucket, distribution)
        self.cleanup_failures = sqs.Queue(
            scope,
            "FailedRecords",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.cleanup.add_event_source(
            event_sources.DynamoEventSource(
                posts_table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=CLEANUP_BATCH_SIZE,
                bisect_batch_on_error=True,
                retry_attempts=CLEANUP_RETRIES,
                report_batch_item_failures=True,
                on_failure=event_sources.SqsDlq(self.cleanup_failures),
                filters=[lambda_.FilterCriteria.filter({"eventName": lambda_.FilterRule.is_equal("REMOVE")})],
            )
        )
        alarm_on(
            scope,
            "FailedRecordsAlarm",
            "Renditions of deleted posts could not be removed: see the cleanup failures queue",
            self.cleanup_failures.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
            1,
        )
        alarm_on(
            scope,
            "IteratorAgeAlarm",
            "Cleanup falls behind the posts table's stream",
            self.cleanup.metric("IteratorAge", statistic="Maximum", period=Duration.minutes(1)),
            CLEANUP_ITERATOR_AGE_ALARM.to_milliseconds(),
            evaluation_periods=3,
        )
