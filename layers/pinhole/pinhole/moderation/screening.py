"""Automatic image screening (context `image_moderation`): Rekognition DetectModerationLabels on one rendition of
each image (a video: its poster), and the labels at or above the confidence threshold (context
`image_moderation_min_confidence`). What it cannot do is in docs/SECURITY.md ("Automatic screening"): it is not
exhaustive, and it does not detect child sexual abuse material, which needs hash matching against a
clearinghouse's list.

Locally the call goes to a stand-in (local/rekognition.py, never deployed): moto 5.2.5 has no
DetectModerationLabels."""

from typing import Any

import boto3

from pinhole.media.models import ScreeningLabel
from pinhole.shared.settings import get_settings

MAX_IMAGE_BYTES = 5 * 1024 * 1024
"""Rekognition's limit for an image passed as bytes; renditions are far smaller."""

_rekognition = boto3.client("rekognition", region_name=get_settings().region)


class ImageScreen:
    def __init__(self, client: Any = _rekognition) -> None:
        self._client = client

    @property
    def enabled(self) -> bool:
        return get_settings().image_moderation

    def flagged(self, image: bytes) -> list[ScreeningLabel]:
        """The labels Rekognition is at least as sure of as the threshold; none when screening is off."""
        if not self.enabled or len(image) > MAX_IMAGE_BYTES:
            return []
        threshold = get_settings().image_moderation_min_confidence
        answer = self._client.detect_moderation_labels(Image={"Bytes": image}, MinConfidence=threshold)
        return [
            ScreeningLabel(
                name=str(label.get("Name", "")),
                parent=str(label.get("ParentName", "")),
                confidence=float(label.get("Confidence", 0.0)),
            )
            for label in answer.get("ModerationLabels", [])
            if float(label.get("Confidence", 0.0)) >= threshold
        ]
