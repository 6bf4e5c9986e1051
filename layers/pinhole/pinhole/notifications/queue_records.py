"""The intents queue's SQS records as delivery's consumer parses them (Powertools' SqsRecordModel, bodies
validated): imported by that consumer only, so that nothing else loads the event-source models."""

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json

from pinhole.notifications.models import NotificationIntent


class IntentMessage(SqsRecordModel):
    """An SQS record of the notifications queue, its body parsed (a malformed one fails, and ends in
    the dead-letter queue after its retries)."""

    body: Json[NotificationIntent]
