"""The stream routers' overflow bucket: a stream record too large for an SQS message (a NEW_AND_OLD_IMAGES
record of two large items can reach twice DynamoDB's 400 KB item limit, SQS takes 256 KB) is put here by the
router, and its consumers' messages say where. Objects expire once no queue can still hold a message naming
them: a message lives at most 14 days in its queue and, for a FIFO queue (whose dead-letter queue restarts
the clock), 14 more in the dead-letter queue."""

from aws_cdk import Duration
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks import constants
from stacks.stateful.media_construct import ABORT_MULTIPART_AFTER, protected_bucket

OVERFLOW_EXPIRES_AFTER = Duration.days(30)


class StreamOverflow(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, access_logs_bucket: s3.IBucket) -> None:
        super().__init__(scope, construct_id)
        self.bucket = protected_bucket(
            self,
            constants.STREAM_OVERFLOW_BUCKET_ID,
            server_access_logs_bucket=access_logs_bucket,
            server_access_logs_prefix="s3/stream-overflow/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-overflowed-records",
                    expiration=OVERFLOW_EXPIRES_AFTER,
                    abort_incomplete_multipart_upload_after=ABORT_MULTIPART_AFTER,
                )
            ],
        )
