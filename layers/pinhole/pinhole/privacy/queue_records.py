"""The purge and export queues' SQS records as their consumers parse them (Powertools' SqsRecordModel, bodies
validated): imported by the consumers only, so that what queues a purge or an export (the auth and privacy APIs) does
not load the event-source models."""

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json

from pinhole.privacy.models import ExportRequest, PurgeRequest


class PurgeMessage(SqsRecordModel):
    """An SQS record of the purge queue, its body parsed (a malformed one ends in the dead-letter queue)."""

    body: Json[PurgeRequest]


class ExportMessage(SqsRecordModel):
    body: Json[ExportRequest]
