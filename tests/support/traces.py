"""Stored items as text a test can search for a user's id or name: a binary attribute (the ranked feed's
zlib-compressed snapshots) is decompressed when it can be, so what it holds is searched too."""

import base64
import json
import zlib
from typing import Any


def _readable(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        try:
            return zlib.decompress(value).decode()
        except (zlib.error, UnicodeDecodeError):
            return base64.b64encode(value).decode()
    raise TypeError(f"not JSON: {type(value).__name__}")


def item_text(item: dict[str, Any]) -> str:
    """A low-level DynamoDB item (attribute-value form) as JSON, binary values made readable."""
    return json.dumps(item, sort_keys=True, default=_readable)
