"""Page cursors: opaque to clients, tamper-evident (HMAC), and bound to the listing they came from,
so a cursor edited by hand, or taken from another user's or another route's listing, is refused
rather than obeyed. They carry DynamoDB's LastEvaluatedKey, which makes pages stable under
concurrent inserts: the next page starts strictly after the last item served."""

import base64
import hashlib
import hmac
import json
from typing import Any

from pinhole.shared.errors import ValidationFailed

_MAC_BYTES = 16


def _mac(secret: bytes, scope: str, payload: bytes) -> bytes:
    return hmac.new(secret, scope.encode() + b"\x00" + payload, hashlib.sha256).digest()[:_MAC_BYTES]


def encode_cursor(position: dict[str, Any], scope: str, secret: bytes) -> str:
    payload = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(_mac(secret, scope, payload) + payload).decode().rstrip("=")


def decode_cursor(cursor: str, scope: str, secret: bytes) -> dict[str, Any]:
    invalid = ValidationFailed("The cursor is not valid for this list.", [{"field": "cursor"}])
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (ValueError, TypeError) as error:
        raise invalid from error
    # The decoder skips characters outside the alphabet and ignores a last character's spare bits, so
    # many strings decode alike: only the one encode_cursor writes is taken, so any edit is refused.
    if base64.urlsafe_b64encode(raw).decode().rstrip("=") != cursor:
        raise invalid
    mac, payload = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
    if len(mac) != _MAC_BYTES or not hmac.compare_digest(mac, _mac(secret, scope, payload)):
        raise invalid
    position = json.loads(payload)
    if not isinstance(position, dict):
        raise invalid
    return position
