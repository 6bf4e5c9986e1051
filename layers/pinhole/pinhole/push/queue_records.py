"""The push queue's SQS records as the worker's consumer parses them (Powertools' SqsRecordModel, bodies validated):
imported by that consumer only, so that what queues a push (the messaging API) does not load the event-source
models."""

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json

from pinhole.push.models import PushJob


class PushJobMessage(SqsRecordModel):
    """An SQS record of the push queue, its body parsed (a malformed one ends in the dead-letter queue)."""

    body: Json[PushJob]
