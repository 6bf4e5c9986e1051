"""A stand-in for the fan-out queue: what the feed fan-out sends to SQS, kept for the test to deliver
as the queue's workers would."""

import json
from typing import Any


class CapturingQueue:
    """Keeps every message sent (chunks of a large fan-out, delayed second backfills) with its delay."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.delays: list[int] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.messages.extend(json.loads(entry["MessageBody"]) for entry in Entries)
        self.delays.extend(int(entry.get("DelaySeconds", 0)) for entry in Entries)
        return {"Successful": [{"Id": entry["Id"]} for entry in Entries]}
