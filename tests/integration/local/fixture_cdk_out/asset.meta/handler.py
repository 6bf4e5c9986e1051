"""Fixture stand-in for functions/meta: public routes."""

import json
import os

SERVICE_AT_IMPORT = os.environ.get("POWERTOOLS_SERVICE_NAME")


def handler(event, context):
    path = event["rawPath"]
    if path == "/health":
        return {
            "statusCode": 200,
            "headers": {"content-type": "application/json"},
            "body": json.dumps({"status": "ok"}),
        }
    if path == "/docs":
        return {"statusCode": 200, "headers": {"content-type": "text/html"}, "body": "<html>docs</html>"}
    return {"openapi": "3.1.0", "service": SERVICE_AT_IMPORT}
