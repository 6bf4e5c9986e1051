"""A required text that the server trims (a comment, a message, a group title, a collection name, a moderator's note,
a log-in name) must hold more than blanks, and the OpenAPI document says so: its pattern, read as ECMAScript reads it
(Python's `re` agrees on these classes), refuses what the server would trim to nothing, or to characters that draw
nothing (zero-width spaces, Hangul fillers, the braille blank: `pinhole.shared.text.INVISIBLE`), so no client or
fuzzer is told a value is valid that the server then refuses (the fuzz soak's finding: a note of "\\u00a0")."""

import re
from typing import Any

import jsonschema_rs
import pytest
from pydantic import TypeAdapter, ValidationError

from pinhole.auth.models import LoginName
from pinhole.messaging.models import MessageText, Title
from pinhole.moderation.models import ActionRequest
from pinhole.shared.text import MULTI_LINE_TEXT, SPACES, shows_nothing
from pinhole.social.models import CollectionName, CommentText

BLANKS = [" ", "\t", "\n\r", "\u00a0", "\u3000 ", "\u2002\u2009\u202f", "\u2028\u2029"]
FIELDS: dict[str, Any] = {
    "comment text": CommentText,
    "message text": MessageText,
    "group title": Title,
    "collection name": CollectionName,
    "log-in name": LoginName,
}


def note_of(value: str) -> Any:
    return ActionRequest(action="dismiss", note=value).note


@pytest.mark.parametrize("name", FIELDS)
@pytest.mark.parametrize("blank", BLANKS)
def test_the_document_and_the_server_both_refuse_blanks(name: str, blank: str) -> None:
    adapter = TypeAdapter(FIELDS[name])
    pattern = adapter.json_schema()["pattern"]

    assert re.fullmatch(pattern, blank) is None
    with pytest.raises(ValidationError):
        adapter.validate_python(blank)


@pytest.mark.parametrize("name", FIELDS)
def test_text_with_blanks_around_it_is_valid_to_both_and_trimmed(name: str) -> None:
    adapter = TypeAdapter(FIELDS[name])
    written = "\u00a0 trip \u3000"

    assert re.fullmatch(adapter.json_schema()["pattern"], written)
    assert adapter.validate_python(written) == "trip"


def test_a_moderators_note_of_blanks_is_refused_by_its_pattern_too() -> None:
    schema = ActionRequest.model_json_schema()["properties"]["note"]
    assert re.fullmatch(schema["pattern"], "\u00a0") is None
    with pytest.raises(ValidationError):
        note_of("\u00a0")
    assert note_of(" spam \n") == "spam"


def test_every_blank_named_is_one_the_server_trims() -> None:
    # the class names only what Python trims: a blank it kept would be refused by the pattern but accepted here
    assert all(not character.strip() for character in re.findall(r".", "".join(BLANKS), re.S))
    assert re.fullmatch(f"[{SPACES}]+", "".join(BLANKS))


INVISIBLE_TEXTS = [
    "\u200b",
    "\u200b\u200c\u200d\u2060",
    "\u3164",
    "\u2800",
    "\ufeff",
    "\u200e\u200f",
    "\u115f\u1160",
    "\u00ad\ufe0f",
    " \u200b\u00a0",
    "\U000e0070\U000e0069",
]
"""Texts that draw nothing although Python's trimming keeps them: zero-width spaces and joiners, Hangul fillers, the
braille blank, a byte order mark, direction marks, a soft hyphen and a variation selector, tag characters."""


@pytest.mark.parametrize("name", FIELDS)
@pytest.mark.parametrize("invisible", INVISIBLE_TEXTS)
def test_the_document_and_the_server_both_refuse_a_text_that_shows_nothing(name: str, invisible: str) -> None:
    adapter = TypeAdapter(FIELDS[name])

    assert re.fullmatch(adapter.json_schema()["pattern"], invisible) is None
    assert jsonschema_rs.validator_for(adapter.json_schema()).is_valid(invisible) is False
    with pytest.raises(ValidationError):
        adapter.validate_python(invisible)


@pytest.mark.parametrize("invisible", INVISIBLE_TEXTS)
def test_a_moderators_note_that_shows_nothing_is_refused(invisible: str) -> None:
    with pytest.raises(ValidationError):
        note_of(invisible)


@pytest.mark.parametrize("name", FIELDS)
@pytest.mark.parametrize("written", ["a\u200bb", "\u200d😀", "\u3164ㄱ", "\u2800⠁"])
def test_invisible_characters_beside_something_shown_are_taken(name: str, written: str) -> None:
    adapter = TypeAdapter(FIELDS[name])

    assert re.fullmatch(adapter.json_schema()["pattern"], written)
    assert adapter.validate_python(written) == written


@pytest.mark.parametrize("text", [*INVISIBLE_TEXTS, *BLANKS, "", "a\u200b", "\u200d😀", "é"])
def test_a_display_name_becomes_the_username_exactly_when_a_comment_would_be_refused(text: str) -> None:
    # one rule: what a comment is refused for showing nothing is what a display name is replaced for
    refused = re.fullmatch(MULTI_LINE_TEXT, text.strip()) is None
    assert shows_nothing(text.strip()) == refused
