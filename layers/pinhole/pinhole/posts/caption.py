"""Hashtags and mentions in a caption: unicode-aware, lower-cased, each once, in order of appearance."""

import re

# A tag is letters, digits, marks and underscores in any script ("#café", "#東京", "#año_2026").
_TAG = re.compile(r"(?<![\w#])#([^\W_][\w]*|_[\w]+)", re.UNICODE)
# A mention is a username (API.md: 3 to 30 of a-z 0-9 . _), not part of an e-mail address.
_MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9._]{3,30})(?![A-Za-z0-9_])")

MAX_TAGS = 30


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def extract_tags(caption: str) -> list[str]:
    return _unique([tag.casefold() for tag in _TAG.findall(caption)])[:MAX_TAGS]


def extract_mentions(caption: str) -> list[str]:
    return _unique([name.lower().rstrip(".") for name in _MENTION.findall(caption)])
