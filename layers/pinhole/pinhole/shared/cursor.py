"""Page cursors: opaque to clients, tamper-evident, and bound to the listing they came from (its scope), so a
cursor edited by hand, or taken from another listing — another route's, another user's or post's, and on the
caller's own lists another caller's — is refused rather than obeyed.
They carry DynamoDB's LastEvaluatedKey, which makes pages stable under concurrent inserts: the next page
starts strictly after the last item served.

That key names people and posts (`user#<id>`, a post id) the reader may not be shown: someone who blocked
them, a hidden conversation's partner, a private account's post. So a cursor is encrypted, not only
signed: AES-GCM (the `cryptography` library) under a key derived from the cursor secret with HKDF, a
random 96-bit nonce per cursor, and the listing's scope as associated data. Cursors issued before were
signed only (an HMAC-SHA256 of the scope and the position, the position in clear JSON); decode_cursor
still takes those for one release, so a client scrolling at deploy time keeps its place: the release
after drops `_legacy_position`.

The cipher is made on first use, not when this module is imported: importing it and deriving the key cost
~14 ms of CPU (docs/BENCHMARKS.md, "What the domain layer carries"), which an API function's cold start
(benchmarks/cold_start.py, tests/unit/test_cold_imports.py) should not pay before it serves a list."""

import base64
import functools
import hashlib
import hmac
import json
import os
from typing import TYPE_CHECKING, Any

from pinhole.shared.errors import ValidationFailed

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12  # 96 bits, GCM's own nonce size
_KEY_INFO = b"pinhole page cursor encryption v1"  # keeps the encryption key apart from the legacy MAC's
_LEGACY_MAC_BYTES = 16


@functools.lru_cache(maxsize=4)  # one secret at a time; a few, as Secrets Manager's value may change hourly
def _cipher(secret: bytes) -> "AESGCM":
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(secret)
    return AESGCM(key)


def _serialized(position: dict[str, Any]) -> bytes:
    return json.dumps(position, separators=(",", ":"), sort_keys=True).encode()


def _unpadded_base64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def encode_cursor(position: dict[str, Any], scope: str, secret: bytes) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    return _unpadded_base64(nonce + _cipher(secret).encrypt(nonce, _serialized(position), scope.encode()))


def decode_cursor(cursor: str, scope: str, secret: bytes) -> dict[str, Any]:
    """The position `cursor` was made from, if it came from encode_cursor for this very scope and secret;
    otherwise one and the same error, whatever was wrong. Also takes, for one release, a cursor of the
    signed-only format issued before encryption (see the module's docstring)."""
    from cryptography.exceptions import InvalidTag

    invalid = ValidationFailed("The cursor is not valid for this list.", [{"field": "cursor"}])
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (ValueError, TypeError) as error:
        raise invalid from error
    # The decoder skips characters outside the alphabet and ignores a last character's spare bits, so
    # many strings decode alike: only the one encode_cursor writes is taken, so any edit is refused.
    if _unpadded_base64(raw) != cursor:
        raise invalid
    try:
        payload: bytes | None = _cipher(secret).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], scope.encode())
    except (InvalidTag, ValueError):  # ValueError: too short to hold a nonce
        payload = _legacy_position(raw, scope, secret)
    if payload is None:
        raise invalid
    position = json.loads(payload)
    if not isinstance(position, dict):
        raise invalid
    return position


def _legacy_position(raw: bytes, scope: str, secret: bytes) -> bytes | None:
    """The JSON position of a signed-only cursor (the format before encryption) whose MAC holds, else None."""
    mac, payload = raw[:_LEGACY_MAC_BYTES], raw[_LEGACY_MAC_BYTES:]
    expected = hmac.new(secret, scope.encode() + b"\x00" + payload, hashlib.sha256).digest()[:_LEGACY_MAC_BYTES]
    return payload if len(mac) == _LEGACY_MAC_BYTES and hmac.compare_digest(mac, expected) else None
