"""Fixture stream consumer: records batches; fails items whose NewImage has fail=true."""

RECEIVED: list[dict] = []


def handler(event, context):
    RECEIVED.append(event)
    failures = [
        {"itemIdentifier": record["dynamodb"]["SequenceNumber"]}
        for record in event["Records"]
        if record.get("dynamodb", {}).get("NewImage", {}).get("fail", {}).get("BOOL")
    ]
    return {"batchItemFailures": failures}
