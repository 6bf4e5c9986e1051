"""Lambda entry points of the push context:
- `handler`: POST/GET /me/devices, DELETE /me/devices/{device_id}, GET/PATCH /me/notification-settings (JWT);
- `deliver`: the push queue — each job published to the recipient's devices through SNS mobile push.
The consumer reports partial batch failures; a job that keeps failing ends in the dead-letter queue."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from pinhole.push import logic
from pinhole.push.models import (
    Device,
    DeviceRegistration,
    NotificationSettings,
    NotificationSettingsPatch,
)
from pinhole.push.queue_records import PushJobMessage
from pinhole.shared.api import BEARER_AUTH, apply_api_conventions, current_caller, no_content
from pinhole.shared.observability import logger, metrics, tracer

DeviceId = Annotated[str, Path(min_length=1, max_length=64)]


class Devices(BaseModel):
    items: list[Device]


app = APIGatewayHttpResolver(enable_validation=True)
apply_api_conventions(app)

worker = logic.PushWorker()
queue = BatchProcessor(event_type=EventType.SQS, model=PushJobMessage)


@app.post(
    "/me/devices",
    summary="Register this phone for push (idempotent on the token)",
    tags=["push"],
    security=BEARER_AUTH,
    status_code=201,
)
@tracer.capture_method
def register_device(
    request: DeviceRegistration,
) -> Device:
    return logic.register_device(current_caller(app), request)


@app.get("/me/devices", summary="Your phones registered for push", tags=["push"], security=BEARER_AUTH)
@tracer.capture_method
def devices() -> Devices:
    return Devices(items=logic.devices_of(current_caller(app)))


@app.delete(
    "/me/devices/<device_id>",
    summary="Stop pushing to a phone",
    tags=["push"],
    security=BEARER_AUTH,
    status_code=204,
)
@tracer.capture_method
def remove_device(device_id: DeviceId) -> Response[None]:
    logic.remove_device(current_caller(app), device_id)
    return no_content()


@app.get("/me/notification-settings", summary="Which kinds of push you get", tags=["push"], security=BEARER_AUTH)
@tracer.capture_method
def settings() -> NotificationSettings:
    return logic.settings_of(current_caller(app))


@app.patch(
    "/me/notification-settings",
    summary="Turn kinds of push on or off",
    tags=["push"],
    security=BEARER_AUTH,
)
@tracer.capture_method
def change_settings(patch: Annotated[NotificationSettingsPatch, Body()]) -> NotificationSettings:
    return logic.change_settings(current_caller(app), patch)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)


@tracer.capture_method
def job_received(record: PushJobMessage) -> None:
    sent = worker.deliver(record.body)
    if sent:
        metrics.add_metric(name="PushesPublished", unit="Count", value=sent)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def deliver(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=job_received, processor=queue, context=context)
