"""Hashtags and mentions in a caption: unicode-aware, lower-cased, each once, in order of appearance.

A tag is `#` and a run of letters, digits, combining marks and underscores in any script ("#café",
"#東京", "#हिन्दी", "#año_2026"), not glued to a word or another `#`; a mention is `@` and a username
(API.md: 3 to 30 of a-z 0-9 . _, a sentence's full stops after it aside: no username ends with one), not part
of an e-mail address. Nothing inside a link counts (`https://example.com/#top`, `https://x.com/@someone`). Text is
read in NFC, so a letter typed with a combining accent and its precomposed form give one tag."""

import re
import unicodedata

from pinhole.shared.text import nfc
from pinhole.users.usernames import USERNAME_PATTERN

MAX_TAGS = 30
MAX_MENTIONS = 20
"""At most this many people are mentioned (and notified) by one caption or comment: a text naming
hundreds of users is spam, not conversation."""
MAX_TAG_LENGTH = 100
"""A longer run is not taken as a tag (a tag is a key of the search index, whose keys are bounded)."""

_LINK = re.compile(r"(?:https?://|www\.)\S*", re.IGNORECASE)
_TAG_START = re.compile(r"(?<![\w#])#")
_MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9._]+)(?!\w)")
_USERNAME = re.compile(USERNAME_PATTERN)


def fold_tag(text: str) -> str:
    """The one spelling of a tag: NFC, case-folded (folding can decompose a letter, so NFC again)."""
    return nfc(nfc(text).casefold())


def _is_tag_character(char: str) -> bool:
    return char.isalnum() or char == "_" or unicodedata.category(char).startswith("M")


def _read(text: str) -> str:
    return _LINK.sub(" ", nfc(text))


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _tags(text: str) -> list[str]:
    found = []
    for start in _TAG_START.finditer(text):
        end = start.end()
        while end < len(text) and _is_tag_character(text[end]):
            end += 1
        tag = fold_tag(text[start.end() : end])
        # A tag starts with a letter or digit, or is an underscore and more; a mark cannot start one.
        if tag in ("", "_") or unicodedata.category(tag[0]).startswith("M") or len(tag) > MAX_TAG_LENGTH:
            continue
        found.append(tag)
    return found


def extract_tags(caption: str) -> list[str]:
    return _unique(_tags(_read(caption)))[:MAX_TAGS]


def extract_mentions(caption: str) -> list[str]:
    # A full stop after a name ends the sentence: no name chosen at sign-up ends with one (pinhole.users.usernames).
    names = [name.lower().rstrip(".") for name in _MENTION.findall(_read(caption))]
    return _unique([name for name in names if _USERNAME.match(name)])[:MAX_MENTIONS]
