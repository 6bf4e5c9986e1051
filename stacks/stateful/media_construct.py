"""Object storage: the uploads bucket (originals, never served), the media bucket (renditions, served
only through CloudFront), the message media bucket (photo messages' renditions, private: read only
through pre-signed GETs a member gets, never behind the CDN) and the bucket all log their access to."""

from typing import cast

from aws_cdk import Aws, CfnResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3_notifications
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from pinhole.resize.models import RESIZE_MAX_RECEIVES
from stacks import constants
from stacks.function_factory import LOG_RETENTION

ORIGINALS_TO_GLACIER_AFTER = Duration.days(30)
NONCURRENT_VERSIONS_EXPIRE_AFTER = Duration.days(30)
ABORT_MULTIPART_AFTER = Duration.days(1)
EXPORTS_EXPIRE_AFTER = Duration.days(8)
ACCESS_LOGS_EXPIRE_AFTER = Duration.days(90)
# resize may run for up to RESIZE_TIMEOUT; SQS must hide a message in flight for longer than that
# (AWS advises six times the function timeout), and give up after a few tries into the DLQ.
RESIZE_TIMEOUT = Duration.minutes(2)
UPLOAD_EVENTS_VISIBILITY = Duration.minutes(12)
UPLOAD_EVENTS_MAX_RECEIVES = RESIZE_MAX_RECEIVES  # resize rejects a picture on its last receive
DEAD_LETTERS_KEPT_FOR = Duration.days(14)
# transcode (docs/MEDIA.md "Sizing"): a 90 s 4K HEVC HDR clip is the costliest upload; ffmpeg is stopped
# WATCHDOG_RESERVE_S before the timeout. A message stays hidden for six timeouts (AWS's advice for an event source
# mapping), and the queue gives up after two receives: a clip that killed the function twice will kill it again.
TRANSCODE_TIMEOUT = Duration.minutes(15)
TRANSCODE_EVENTS_VISIBILITY = Duration.minutes(90)
TRANSCODE_MAX_RECEIVES = 2
TRANSCODE_DEAD_LETTER_MAX_RECEIVES = 5  # the dead-letter consumer only writes to DynamoDB: throttles, not poison
# The id of the function CDK adds once per stack to write bucket notification configurations.
CDK_NOTIFICATIONS_HANDLER_ID = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"
NOTIFICATIONS_HANDLER_MEMORY_MB = 128  # one small S3 API call per deployment


def protected_bucket(
    scope: Construct,
    construct_id: str,
    *,
    server_access_logs_bucket: s3.IBucket | None = None,
    server_access_logs_prefix: str | None = None,
    **kwargs: object,
) -> s3.Bucket:
    return s3.Bucket(
        scope,
        construct_id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        encryption=s3.BucketEncryption.S3_MANAGED,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        server_access_logs_bucket=server_access_logs_bucket,
        server_access_logs_prefix=server_access_logs_prefix,
        removal_policy=RemovalPolicy.RETAIN,
        **kwargs,  # type: ignore[arg-type]
    )


class MediaStorage(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.access_logs_bucket = protected_bucket(
            self,
            constants.ACCESS_LOGS_BUCKET_ID,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=ACCESS_LOGS_EXPIRE_AFTER,
                    abort_incomplete_multipart_upload_after=ABORT_MULTIPART_AFTER,
                )
            ],
        )
        self._let_cloudfront_deliver_access_logs()
        self.uploads_bucket = protected_bucket(
            self,
            constants.UPLOADS_BUCKET_ID,
            versioned=True,
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix="s3/uploads/",
            # no `cors`: the stateless stack sets it, with the web app's origin (web_construct.UploadsCors)
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="originals",
                    abort_incomplete_multipart_upload_after=ABORT_MULTIPART_AFTER,
                    noncurrent_version_expiration=NONCURRENT_VERSIONS_EXPIRE_AFTER,
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                            transition_after=ORIGINALS_TO_GLACIER_AFTER,
                        )
                    ],
                ),
                # A data export's link is valid 7 days (pinhole.privacy.logic.EXPORT_LINK_VALID); a day more.
                s3.LifecycleRule(id="exports", prefix=constants.EXPORT_KEY_PREFIX, expiration=EXPORTS_EXPIRE_AFTER),
            ],
        )
        self.media_bucket = protected_bucket(
            self,
            constants.MEDIA_BUCKET_ID,
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix="s3/media/",
            lifecycle_rules=[
                s3.LifecycleRule(id="abort-multipart", abort_incomplete_multipart_upload_after=ABORT_MULTIPART_AFTER)
            ],
        )
        self.message_media_bucket = protected_bucket(
            self,
            constants.MESSAGE_MEDIA_BUCKET_ID,
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix="s3/message-media/",
            lifecycle_rules=[
                s3.LifecycleRule(id="abort-multipart", abort_incomplete_multipart_upload_after=ABORT_MULTIPART_AFTER)
            ],
        )
        self._notify_uploads()
        # The distribution lives in the stateless stack; naming its ARN here would make the two stacks
        # depend on each other, so any distribution of this account may read, and only through OAC.
        self.media_bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudFrontOacRead",
                principals=[iam.ServicePrincipal("cloudfront.amazonaws.com")],
                actions=["s3:GetObject"],
                resources=[self.media_bucket.arn_for_objects("*")],
                conditions={
                    "StringLike": {"AWS:SourceArn": f"arn:{Aws.PARTITION}:cloudfront::{Aws.ACCOUNT_ID}:distribution/*"}
                },
            )
        )

    def _let_cloudfront_deliver_access_logs(self) -> None:
        """CloudFront's standard logging v2 writes through CloudWatch's log delivery service, from the delivery
        sources of this account in us-east-1 (stacks/stateless/edge.py), under `cloudfront/` only. Stated here,
        in the bucket's own policy, so that CloudWatch never rewrites the policy when a delivery is created."""
        delivery_sources = f"arn:{Aws.PARTITION}:logs:{constants.CLOUDFRONT_REGION}:{Aws.ACCOUNT_ID}:delivery-source:*"
        conditions = {
            "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
            "ArnLike": {"aws:SourceArn": delivery_sources},
        }
        log_delivery = iam.ServicePrincipal("delivery.logs.amazonaws.com")
        self.access_logs_bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AWSLogDeliveryWrite",
                principals=[log_delivery],
                actions=["s3:PutObject"],
                resources=[self.access_logs_bucket.arn_for_objects(f"{constants.CLOUDFRONT_LOGS_PREFIX}*")],
                conditions={
                    **conditions,
                    "StringEquals": {**conditions["StringEquals"], "s3:x-amz-acl": "bucket-owner-full-control"},
                },
            )
        )
        self.access_logs_bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AWSLogDeliveryAclCheck",
                principals=[log_delivery],
                actions=["s3:GetBucketAcl"],
                resources=[self.access_logs_bucket.bucket_arn],
                conditions=conditions,
            )
        )

    def _notify_uploads(self) -> None:
        """New originals go to a queue (not straight to the function), so that resize consumes them in
        batches with retries and a dead-letter queue, and this stack need not know the function."""
        self.upload_events_dlq = sqs.Queue(
            self,
            constants.UPLOAD_EVENTS_DLQ_ID,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DEAD_LETTERS_KEPT_FOR,
        )
        self.upload_events = sqs.Queue(
            self,
            constants.UPLOAD_EVENTS_QUEUE_ID,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=UPLOAD_EVENTS_VISIBILITY,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.upload_events_dlq, max_receive_count=UPLOAD_EVENTS_MAX_RECEIVES
            ),
        )
        # The dead-letter queue has a consumer (it fails the videos given up on); what that consumer cannot settle
        # either is kept in a last queue of its own, with an alarm.
        self.transcode_unsettled = sqs.Queue(
            self,
            constants.TRANSCODE_UNSETTLED_QUEUE_ID,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DEAD_LETTERS_KEPT_FOR,
        )
        self.transcode_dlq = sqs.Queue(
            self,
            constants.TRANSCODE_DLQ_ID,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DEAD_LETTERS_KEPT_FOR,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.transcode_unsettled, max_receive_count=TRANSCODE_DEAD_LETTER_MAX_RECEIVES
            ),
        )
        self.transcode_queue = sqs.Queue(
            self,
            constants.TRANSCODE_QUEUE_ID,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=TRANSCODE_EVENTS_VISIBILITY,
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.transcode_dlq, max_receive_count=TRANSCODE_MAX_RECEIVES),
        )
        for prefix in (constants.UPLOAD_KEY_PREFIX, constants.AVATAR_KEY_PREFIX, constants.MESSAGE_UPLOAD_KEY_PREFIX):
            self.uploads_bucket.add_event_notification(
                s3.EventType.OBJECT_CREATED,
                s3_notifications.SqsDestination(self.upload_events),
                s3.NotificationKeyFilter(prefix=prefix),
            )
        self._hold_notifications_handler_to_our_function_rules()

    def _hold_notifications_handler_to_our_function_rules(self) -> None:
        """CDK's deploy-time function that writes the notification configuration gets what every Pinhole
        function has: explicit memory, active tracing, its own log group with retention, and a role
        that may write only there (instead of AWSLambdaBasicExecutionRole: logs on every group)."""
        handler = cast(Construct, Stack.of(self).node.find_child(CDK_NOTIFICATIONS_HANDLER_ID))
        function = cast(CfnResource, handler.node.default_child)
        role = cast(iam.Role, handler.node.find_child("Role"))
        log_group = logs.LogGroup(handler, "LogGroup", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"])
        )
        cast(iam.CfnRole, role.node.default_child).managed_policy_arns = None
        function.add_property_override("MemorySize", NOTIFICATIONS_HANDLER_MEMORY_MB)
        function.add_property_override("TracingConfig", {"Mode": "Active"})
        function.add_property_override("LoggingConfig", {"LogGroup": log_group.log_group_name})
        function.node.add_dependency(role.node.find_child("DefaultPolicy"))
