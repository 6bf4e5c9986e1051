"""SNS mobile push: platform endpoints (one per device token) and publishing to them.

Registration follows SNS's documented token routine: create the endpoint if the device has none (a
`CreatePlatformEndpoint` that finds the token under other attributes names the existing endpoint in its
error: that one is used); then `GetEndpointAttributes` — an endpoint deleted meanwhile is created again,
and one whose token changed or that was disabled gets `SetEndpointAttributes(Token, Enabled=true)`."""

import json
import re
from typing import Any

from botocore.config import Config

from pinhole.shared import aws_clients
from pinhole.shared.settings import get_settings

# A push worker retries the whole job: each call fails fast.
_CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"})
_EXISTING_ENDPOINT = re.compile(r"Endpoint (arn:aws[\w-]*:sns:\S+) already exists")


class EndpointGone(Exception):
    """The endpoint is disabled (the platform said the token is invalid or the app was removed) or deleted:
    the device is to be forgotten."""


class PlatformEndpoints:
    def __init__(self, client: Any = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:  # most invocations of the functions that hold this never call SNS
            self._client = aws_clients.client("sns", get_settings().region, _CLIENT_CONFIG)
        return self._client

    def _create(self, application_arn: str, token: str) -> str:
        try:
            response = self.client.create_platform_endpoint(PlatformApplicationArn=application_arn, Token=token)
        except self.client.exceptions.InvalidParameterException as error:
            existing = _EXISTING_ENDPOINT.search(str(error))
            if existing is None:
                raise
            return existing.group(1)
        return str(response["EndpointArn"])

    def ensure(self, application_arn: str, token: str, endpoint_arn: str | None) -> str:
        """The endpoint of this token, created, recreated or re-enabled as needed; its ARN."""
        arn = endpoint_arn or self._create(application_arn, token)
        try:
            attributes = self.client.get_endpoint_attributes(EndpointArn=arn)["Attributes"]
        except self.client.exceptions.NotFoundException:
            arn = self._create(application_arn, token)
            attributes = self.client.get_endpoint_attributes(EndpointArn=arn)["Attributes"]
        if attributes.get("Token") != token or str(attributes.get("Enabled", "true")).lower() != "true":
            self.client.set_endpoint_attributes(EndpointArn=arn, Attributes={"Token": token, "Enabled": "true"})
        return arn

    def publish(self, endpoint_arn: str, message: dict[str, str]) -> str:
        """Publishes one message (per-platform payloads, MessageStructure=json); EndpointGone if the
        endpoint is disabled or was deleted."""
        try:
            response = self.client.publish(TargetArn=endpoint_arn, Message=json.dumps(message), MessageStructure="json")
        except (self.client.exceptions.EndpointDisabledException, self.client.exceptions.NotFoundException) as error:
            raise EndpointGone(str(error)) from error
        return str(response["MessageId"])

    def delete(self, endpoint_arn: str) -> None:
        """Idempotent: deleting a deleted endpoint succeeds."""
        self.client.delete_endpoint(EndpointArn=endpoint_arn)
