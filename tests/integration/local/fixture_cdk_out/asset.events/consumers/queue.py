"""Fixture queue consumer: records batches; reports messages with body 'fail' as failed."""

RECEIVED: list[dict] = []


def handler(event, context):
    RECEIVED.append(event)
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "fail"]}
