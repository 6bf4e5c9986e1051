"""Page cursors under hostile input (property-based): a cursor is taken back only by the list it came
from, unchanged; anything else — edited, truncated, extended, sealed for another list or with another
key, or not a cursor at all — is a validation error, never another exception and never a position. And a
cursor shows nothing of the position it holds (the DynamoDB key names people and posts the reader may not
see)."""

import base64
import hashlib
import hmac
import json
import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pinhole.shared.cursor import decode_cursor, encode_cursor
from pinhole.shared.errors import ValidationFailed

SECRET = b"cursor-secret-of-the-tests"
OTHER_SECRET = b"cursor-secret-of-someone-else"
BASE64URL = string.ascii_letters + string.digits + "-_"

scopes = st.text(min_size=1, max_size=80)
keys = st.text(min_size=1, max_size=20)
values = st.one_of(st.text(max_size=60), st.integers(), st.booleans(), st.none())
positions = st.dictionaries(keys, values, min_size=1, max_size=5)


def refused(cursor: str, scope: str, secret: bytes = SECRET) -> bool:
    try:
        decode_cursor(cursor, scope, secret)
    except ValidationFailed as error:
        assert error.code == "validation_error" and error.details == [{"field": "cursor"}]
        return True
    return False


@given(position=positions, scope=scopes)
def test_a_cursor_comes_back_as_the_position_it_was_made_from(position: dict[str, Any], scope: str) -> None:
    assert decode_cursor(encode_cursor(position, scope, SECRET), scope, SECRET) == position


@given(position=positions, scope=scopes, other=scopes)
def test_a_cursor_of_another_list_is_refused(position: dict[str, Any], scope: str, other: str) -> None:
    cursor = encode_cursor(position, scope, SECRET)

    assert refused(cursor, other) == (other != scope)


@given(position=positions, scope=scopes)
def test_a_cursor_signed_with_another_key_is_refused(position: dict[str, Any], scope: str) -> None:
    assert refused(encode_cursor(position, scope, OTHER_SECRET), scope)


@given(position=positions, scope=scopes, data=st.data())
def test_any_edit_of_a_cursor_is_refused(position: dict[str, Any], scope: str, data: st.DataObject) -> None:
    # Given a real cursor
    cursor = encode_cursor(position, scope, SECRET)

    # When it is edited: a character replaced (also by a non-alphabet one), cut short, lengthened, padded
    index = data.draw(st.integers(0, len(cursor) - 1))
    edited = data.draw(
        st.one_of(
            st.text(alphabet=BASE64URL + "=+/.!~ é\x00", min_size=1, max_size=1).map(
                lambda char: cursor[:index] + char + cursor[index + 1 :]
            ),
            st.just(cursor[:index]),
            st.text(min_size=1, max_size=8).map(lambda tail: cursor + tail),
            st.text(min_size=1, max_size=3).map(lambda extra: cursor[:index] + extra + cursor[index:]),
            st.just(cursor + "=" * data.draw(st.integers(1, 3))),
        )
    )

    # Then it is refused, unless it is the very same string
    assert refused(edited, scope) == (edited != cursor)


def _unpadded(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decoded(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


@given(position=positions, scope=scopes, forged=positions)
def test_a_position_spliced_under_a_real_cursors_nonce_and_tag_is_refused(
    position: dict[str, Any], scope: str, forged: dict[str, Any]
) -> None:
    # Given a real cursor's nonce and tag around another position, as someone who read the format would try
    raw = _decoded(encode_cursor(position, scope, SECRET))
    payload = json.dumps(forged, separators=(",", ":"), sort_keys=True).encode()

    assert refused(_unpadded(raw[:12] + payload + raw[-16:]), scope)
    assert refused(_unpadded(raw[:12] + payload), scope)


def test_a_cursor_shows_none_of_the_key_it_holds() -> None:
    # Given the key of a follower list's last row, naming someone the reader may not be shown
    position = {"pk": {"S": "user#01JBOBSUSERID0000000000"}, "sk": {"S": "follower#01JOLGA0000000000000000"}}

    # When it becomes a cursor, twice
    first, second = (encode_cursor(position, "followers:olga:alice", SECRET) for _ in range(2))

    # Then the cursor's bytes hold neither the key's values nor its JSON (a random nonce and a tag around
    # ciphertext), and each cursor is new, so two cursors of one position cannot even be told equal
    for cursor in (first, second):
        raw = _decoded(cursor)
        assert all(secret not in raw for secret in (b"user#", b"01JBOBSUSERID", b"follower#", b'"pk"', b'{"'))
        assert len(raw) == 12 + len(json.dumps(position, separators=(",", ":"))) + 16
    assert first != second
    assert decode_cursor(first, "followers:olga:alice", SECRET) == decode_cursor(second, "followers:olga:alice", SECRET)


def _signed_only_cursor(position: dict[str, Any], scope: str, secret: bytes) -> str:
    """A cursor as they were made before encryption: 16 bytes of HMAC-SHA256 over the scope and the JSON, then it."""
    payload = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    mac = hmac.new(secret, scope.encode() + b"\x00" + payload, hashlib.sha256).digest()[:16]
    return _unpadded(mac + payload)


@given(position=positions, scope=scopes, other=scopes)
def test_a_signed_only_cursor_issued_before_encryption_is_still_taken_for_one_release(
    position: dict[str, Any], scope: str, other: str
) -> None:
    # Given a cursor a client got just before the deploy
    cursor = _signed_only_cursor(position, scope, SECRET)

    # Then its own list still goes on from it, and it is refused as before anywhere else
    assert decode_cursor(cursor, scope, SECRET) == position
    assert refused(cursor, other) == (other != scope)
    assert refused(_signed_only_cursor(position, scope, OTHER_SECRET), scope)


@given(position=positions, scope=scopes, forged=positions)
def test_a_position_spliced_under_a_signed_only_cursors_mac_is_refused(
    position: dict[str, Any], scope: str, forged: dict[str, Any]
) -> None:
    raw = _decoded(_signed_only_cursor(position, scope, SECRET))
    payload = json.dumps(forged, separators=(",", ":"), sort_keys=True).encode()

    assert refused(_unpadded(raw[:16] + payload), scope) == (forged != position)


@given(
    text=st.one_of(
        st.text(max_size=300),
        st.text(alphabet=BASE64URL, max_size=300),
        st.binary(max_size=200).map(lambda raw: base64.urlsafe_b64encode(raw).decode()),
    )
)
@settings(max_examples=300)
def test_anything_that_was_never_issued_is_refused_without_another_error(text: str) -> None:
    assert refused(text, "followers:someone")


@pytest.mark.parametrize("size", [2048, 100_000])
def test_an_oversized_cursor_is_refused(size: int) -> None:
    assert refused("A" * size, "followers:someone")
