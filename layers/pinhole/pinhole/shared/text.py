"""What people write (names, bios, captions, comments, messages, titles, notes) may hold any character a keyboard
or an emoji picker makes, but no control character: a NUL, an escape sequence or a backspace in a name is never
meant, and breaks what shows it (a terminal, a C string, a push payload). As patterns of the fields (pydantic's
StringConstraints), so the OpenAPI document tells clients and the fuzzer what is refused: 422 naming the field. And
the one normal form (NFC) of text that is a key, so two spellings of one letter never make two keys."""

import re
import unicodedata
from typing import Any

CONTROL = r"\x00-\x1f\x7f-\x9f"
"""Every control character (C0, DEL, C1), as the contents of a character class."""
MULTI_LINE_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
"""The same but line breaks (\\n, \\r) and tabs."""

ONE_LINE = rf"^[^{CONTROL}]*$"
"""A name or a title: no control character at all (C0, DEL, C1), line breaks and tabs included."""

MULTI_LINE = rf"^[^{MULTI_LINE_CONTROL}]*$"
"""A bio, a caption, a comment, a message, a note: line breaks (\\n, \\r) and tabs, and no other control character."""

SPACES = r"\t\n\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
r"""The blanks a trimmed field loses, as a character class: those both Python's (and pydantic's) trimming and
ECMAScript's `\s` count as white space (the document's patterns are ECMAScript's)."""


INVISIBLE = (
    SPACES
    + r"\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    + r"\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    + "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
r"""What draws nothing, as a character class: the blanks (SPACES), Unicode's default-ignorable code points (zero-width
spaces and joiners, direction marks and isolates, the soft hyphen, variation selectors, the Hangul fillers, tags)
and the braille blank. A text of these alone looks empty wherever it is shown. The few outside the BMP are the
characters themselves in the pattern, not `\U` escapes, which ECMAScript does not have (a pattern is read a code
point at a time, as ECMAScript's `u` flag and Python read it)."""


def not_blank(allowed: str) -> str:
    r"""A pattern for text of the characters `allowed` (a negated class's contents: what is refused) that holds at
    least one that shows something (not INVISIBLE): a trimmed field with a minimum length then refuses "   " and
    "\u200b" as the document says, not for a rule the document does not state (its `minLength` counts them)."""
    some = rf"[^{allowed}]" if allowed else r"[\s\S]"
    return rf"^{some}*[^{allowed}{INVISIBLE}]{some}*$"


ONE_LINE_TEXT = not_blank(CONTROL)
"""A one-line text with something in it (a title): ONE_LINE, and not only blanks."""
MULTI_LINE_TEXT = not_blank(MULTI_LINE_CONTROL)
"""A text with something in it (a comment, a message, a moderator's note): MULTI_LINE, and not only blanks."""


_SHOWS_NOTHING = re.compile(f"[{INVISIBLE}]*")


def shows_nothing(text: str) -> bool:
    """Whether the text would render as nothing: only INVISIBLE characters (the very rule by which `not_blank`
    refuses a comment, a message, a title...). A display name of those is the username."""
    return _SHOWS_NOTHING.fullmatch(text) is not None


def nfc(text: str) -> str:
    """Unicode's composed form: "é" typed as `e` and a combining accent, and "é" as one character, are one
    spelling, so what looks the same is the same key (a tag, a collection's name)."""
    return unicodedata.normalize("NFC", text)


def nfc_if_text(value: Any) -> Any:
    """`nfc` as a field's before-validator: anything but a string goes on to be refused by the field's type."""
    return nfc(value) if isinstance(value, str) else value
