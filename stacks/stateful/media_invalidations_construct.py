"""The queue of CDN invalidations still to make: paths of renditions already deleted from the media bucket.
It is stateful because what waits in it is a promise that deleted media stops being served (renditions are
cached for a year at the edge); the invalidator (stacks/stateless/resize_construct.py) drains it within
CloudFront's quotas and puts back, delayed, whatever CloudFront refuses for now."""

from aws_cdk import Duration
from constructs import Construct

from stacks import constants
from stacks.queues import work_queue

INVALIDATE_TIMEOUT = Duration.seconds(30)
INVALIDATIONS_VISIBILITY = Duration.minutes(3)  # six times the invalidator's timeout, as AWS advises
INVALIDATIONS_MAX_RECEIVES = 5  # failures other than CloudFront's throttling (which is waited out, not counted)


class MediaInvalidations(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.queue, self.dlq = work_queue(
            self,
            constants.MEDIA_INVALIDATIONS_QUEUE_ID,
            constants.MEDIA_INVALIDATIONS_DLQ_ID,
            visibility_timeout=INVALIDATIONS_VISIBILITY,
            max_receive_count=INVALIDATIONS_MAX_RECEIVES,
        )
