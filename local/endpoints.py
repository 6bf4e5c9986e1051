"""Where each local surface lives on the one listening port, and how AWS URLs map onto them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from local.provision import CLOUDFRONT_DOMAIN
from local.template import REGION

S3_PREFIX = "/_aws/s3"
MANAGEMENT_PREFIX = "/_aws/execute-api"
MEDIA_PREFIX = "/media"
WEBSOCKET_PATH = "/ws"


@dataclass(frozen=True)
class LocalEndpoints:
    host: str
    port: int

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def http_api(self) -> str:
        return f"{self.base}/"

    @property
    def websocket(self) -> str:
        return f"ws://{self.host}:{self.port}{WEBSOCKET_PATH}"

    @property
    def media(self) -> str:
        return f"{self.base}{MEDIA_PREFIX}"

    @property
    def s3(self) -> str:
        return f"{self.base}{S3_PREFIX}"

    @property
    def rekognition(self) -> str:
        return f"{self.base}/_local/rekognition"

    @property
    def management(self) -> str:
        return f"{self.base}{MANAGEMENT_PREFIX}"

    def localize(self, value: str, http_api_ids: list[str], websocket_api_ids: list[str]) -> str:
        """Rewrite AWS URLs of the app (API endpoints, CloudFront) to their local stand-ins."""
        for api_id in websocket_api_ids:
            host = re.escape(f"{api_id}.execute-api.{REGION}.amazonaws.com")
            value = re.sub(rf"wss://{host}(/[^/\s]*)?", self.websocket, value)
            value = re.sub(rf"https://{host}", self.management, value)
        for api_id in http_api_ids:
            host = re.escape(f"{api_id}.execute-api.{REGION}.amazonaws.com")
            value = re.sub(rf"https://{host}/?", self.http_api, value)
        value = value.replace(f"https://{CLOUDFRONT_DOMAIN}", self.media)
        return value.replace(CLOUDFRONT_DOMAIN, f"{self.host}:{self.port}{MEDIA_PREFIX}")
