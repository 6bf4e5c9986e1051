"""The transcode queue as resize sees it: one message per uploaded video. boto3 stays in this module."""

from typing import Any

import boto3

from pinhole.shared.settings import get_settings
from pinhole.transcode.models import TranscodeRequest

_sqs = boto3.client("sqs", region_name=get_settings().region)


class TranscodeQueue:
    def __init__(self, client: Any = _sqs) -> None:
        self._sqs = client

    def send(self, request: TranscodeRequest) -> None:
        self._sqs.send_message(QueueUrl=get_settings().transcode_queue_url, MessageBody=request.model_dump_json())
