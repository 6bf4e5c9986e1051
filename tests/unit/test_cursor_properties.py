"""Page cursors under hostile input (property-based): a cursor is taken back only by the list it came
from, unchanged; anything else — edited, truncated, extended, signed for another list or with another
key, or not a cursor at all — is a validation error, never another exception and never a position."""

import base64
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


@given(position=positions, scope=scopes, forged=positions)
def test_a_position_spliced_under_a_real_signature_is_refused(
    position: dict[str, Any], scope: str, forged: dict[str, Any]
) -> None:
    # Given a real cursor's signature and another position, as someone who read the format would try
    raw = base64.urlsafe_b64decode(encode_cursor(position, scope, SECRET) + "==")
    payload = json.dumps(forged, separators=(",", ":"), sort_keys=True).encode()
    spliced = base64.urlsafe_b64encode(raw[:16] + payload).decode().rstrip("=")

    assert refused(spliced, scope) == (forged != position)


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
