"""A stand-in for Rekognition's DetectModerationLabels, for automatic image screening in the local cloud.

moto 5.2.5 does not implement DetectModerationLabels, so the local cloud points the functions' Rekognition client
here (`AWS_ENDPOINT_URL_REKOGNITION`). It never ships: the deployed stack calls Rekognition itself. It answers by
the picture's mean colour, with labels a test or a tester sets:

    PUT    /_local/rekognition/rules   {"rules": [{"colour": [r, g, b], "labels": [{"Name", "ParentName",
                                        "Confidence"}]}]}   204: pictures within 24 of that colour get those labels
    GET    /_local/rekognition/rules   {"rules": [...]}
    DELETE /_local/rekognition/rules   204: every picture is clean again (the default)
    POST   /_local/rekognition/        the AWS JSON protocol (X-Amz-Target: RekognitionService.DetectModerationLabels)

A colour, not an id: Rekognition sees only the bytes of a rendition (re-encoded, resized), so whatever marks a
test's picture must survive that; a flat colour does, within a small distance."""

from __future__ import annotations

import base64
import io
import json
import math
import threading
from typing import Any

from PIL import Image, ImageStat
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from local.errors import error_response

REKOGNITION_PREFIX = "/_local/rekognition"
RULES_PATH = "/rules"
COLOUR_TOLERANCE = 24.0
TARGET = "RekognitionService.DetectModerationLabels"
MODEL_VERSION = "7.0"


class ModerationRules:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[dict[str, Any]] = []

    def set(self, rules: list[dict[str, Any]]) -> None:
        with self._lock:
            self._rules = list(rules)

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._rules)

    def labels_for(self, image: bytes) -> list[dict[str, Any]]:
        with Image.open(io.BytesIO(image)) as picture:
            mean = ImageStat.Stat(picture.convert("RGB")).mean
        for rule in self.all():
            if math.dist(mean, rule["colour"]) <= COLOUR_TOLERANCE:
                return list(rule["labels"])
        return []


def _aws_error(status: int, code: str, message: str) -> Response:
    body = json.dumps({"__type": code, "message": message})
    return Response(body, status_code=status, media_type="application/x-amz-json-1.1")


def _valid_rules(body: Any) -> list[dict[str, Any]]:
    rules = body.get("rules") if isinstance(body, dict) else None
    if not isinstance(rules, list):
        raise ValueError('expected {"rules": [...]}')
    for rule in rules:
        colour, labels = rule.get("colour"), rule.get("labels")
        if not (isinstance(colour, list) and len(colour) == 3 and all(isinstance(c, int | float) for c in colour)):
            raise ValueError("each rule needs a colour [r, g, b]")
        if not isinstance(labels, list) or not all(isinstance(label, dict) and "Name" in label for label in labels):
            raise ValueError("each rule needs labels [{Name, ParentName, Confidence}]")
    return rules


class RekognitionStandIn:
    def __init__(self, rules: ModerationRules | None = None) -> None:
        self.rules = rules or ModerationRules()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self._respond(request, scope["path"].removeprefix(REKOGNITION_PREFIX) or "/")
        await response(scope, receive, send)

    async def _respond(self, request: Request, path: str) -> Response:
        if path.rstrip("/") == RULES_PATH:
            return await self._rules(request)
        if path != "/" or request.method != "POST":
            return error_response(404, "not_found", "Rekognition's stand-in answers POST / and /rules only.")
        if request.headers.get("x-amz-target") != TARGET:
            return _aws_error(400, "UnknownOperationException", "The stand-in knows DetectModerationLabels only.")
        return self._detect(await request.body())

    async def _rules(self, request: Request) -> Response:
        if request.method == "GET":
            return Response(json.dumps({"rules": self.rules.all()}), media_type="application/json")
        if request.method == "DELETE":
            self.rules.set([])
            return Response(status_code=204)
        if request.method != "PUT":
            return error_response(
                405, "method_not_allowed", "Rules are read, set or cleared.", {"Allow": "GET, PUT, DELETE"}
            )
        try:
            self.rules.set(_valid_rules(json.loads(await request.body())))
        except (ValueError, AttributeError) as problem:
            return error_response(422, "validation_error", str(problem))
        return Response(status_code=204)

    def _detect(self, body: bytes) -> Response:
        try:
            call = json.loads(body)
            image = base64.b64decode(call["Image"]["Bytes"])
            labels = self.rules.labels_for(image)
        except (ValueError, KeyError, TypeError, OSError):
            return _aws_error(400, "InvalidImageFormatException", "Request has unsupported image format")
        floor = float(call.get("MinConfidence", 50.0))
        shown = [
            {
                "Name": label["Name"],
                "ParentName": label.get("ParentName", ""),
                "Confidence": float(label.get("Confidence", 99.0)),
            }
            for label in labels
            if float(label.get("Confidence", 99.0)) >= floor
        ]
        answer = {"ModerationLabels": shown, "ModerationModelVersion": MODEL_VERSION}
        return Response(json.dumps(answer), media_type="application/x-amz-json-1.1")
