"""Fixture stand-in for an authenticated context: echoes what the gateway gave it."""

import base64
import os
import time

import boto3

SERVICE_AT_IMPORT = os.environ.get("POWERTOOLS_SERVICE_NAME")
_s3 = boto3.client("s3", config=boto3.session.Config(signature_version="s3v4"))


def handler(event, context):
    path = event["rawPath"]
    if path == "/boom":
        raise RuntimeError("secret internal detail")
    if path == "/garbage":
        return {"statusCode": "teapot"}
    if path == "/slow":
        time.sleep(3)
        return {"statusCode": 200}
    if path == "/uploads":
        post = _s3.generate_presigned_post(
            os.environ["UPLOADS_BUCKET"],
            "uploads/photo.jpg",
            Fields={"Content-Type": "image/jpeg"},
            Conditions=[{"Content-Type": "image/jpeg"}, ["content-length-range", 1, 1024]],
            ExpiresIn=60,
        )
        return {
            "statusCode": 201,
            "body": __import__("json").dumps(post),
            "headers": {"content-type": "application/json"},
        }
    if path == "/files/forbidden-write":
        # Its role may put under uploads/ only: local IAM enforcement refuses this as AWS would.
        _s3.put_object(Bucket=os.environ["MEDIA_BUCKET"], Key="renditions/x.jpg", Body=b"x")
    if path == "/files/forbidden-write-caught":
        try:
            _s3.put_object(Bucket=os.environ["MEDIA_BUCKET"], Key="renditions/x.jpg", Body=b"x")
        except _s3.exceptions.ClientError as error:
            return {"status": error.response["ResponseMetadata"]["HTTPStatusCode"], "error": error.response["Error"]}
    if path == "/files/upload-outside-the-grant":
        post = _s3.generate_presigned_post(os.environ["UPLOADS_BUCKET"], "private/photo.jpg", ExpiresIn=60)
        return {
            "statusCode": 201,
            "body": __import__("json").dumps(post),
            "headers": {"content-type": "application/json"},
        }
    if path == "/files/download-url":
        # A pre-signed GET as media URLs are made: signed with the function's own (role session) credentials.
        url = _s3.generate_presigned_url(
            "get_object", Params={"Bucket": os.environ["UPLOADS_BUCKET"], "Key": "uploads/w1080.jpg"}, ExpiresIn=600
        )
        return {"statusCode": 200, "body": __import__("json").dumps({"url": url})}
    if path == "/echo" and "answer_bytes" in (event.get("queryStringParameters") or {}):
        return {"statusCode": 200, "body": "x" * int(event["queryStringParameters"]["answer_bytes"])}
    if path == "/echo" and event.get("isBase64Encoded"):
        return {
            "statusCode": 200,
            "isBase64Encoded": True,
            "body": event["body"],
            "headers": {"content-type": "application/octet-stream"},
            "cookies": ["a=1", "b=2"],
        }
    return {
        "event": event,
        "context": {
            "function_name": context.function_name,
            "remaining": context.get_remaining_time_in_millis(),
            "memory": context.memory_limit_in_mb,
            "arn": context.invoked_function_arn,
            "request_id": context.aws_request_id,
        },
        "service": SERVICE_AT_IMPORT,
        "b64": base64.b64encode(b"x").decode(),
    }
