"""Scheduled: photo and video messages whose upload never arrived are refused `upload_missing`, and their senders
told, as a post whose upload never arrived fails (functions/upload's sweep)."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.messaging import logic
from pinhole.shared.observability import logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: LambdaContext) -> dict:
    refused = logic.refuse_overdue_media()
    logger.info("Swept pending media messages", extra={"refused": refused})
    return {"refused": refused}
