"""Lambda entry point of the WebSocket API. For now the API is a shell: its `$default` route answers
every frame with the error frame of API.md (direct messages arrive with their own issue)."""

import json

from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.shared.observability import logger


@logger.inject_lambda_context
def handler(event: dict, context: LambdaContext) -> dict:
    frame = {"type": "error", "code": "unknown_action", "message": "This action is not supported."}
    return {"statusCode": 200, "body": json.dumps(frame)}
