"""How search reads names, tags and queries. Pure functions: no I/O.

Text is compared *normalised*: decomposed (NFKD), stripped of combining marks and case-folded, so
`José`, `JOSE` and `jose` are one term and full-width or ligature forms read as their plain letters; the Latin
letters whose mark Unicode does not decompose (`Ł`, `ø`, `Đ`, `æ`, `þ`...) read as their ASCII letters too
(anyascii's), so `lukasz` finds `Łukasz`. Other scripts stay as they are (`Иван` is found by `ив`).
A user is found under every prefix (1 to PREFIX_MAX characters) of their username and of each word of
their display name; a tag under every prefix of its normalised form. Rankings in the index use a
logarithmic bucket of a count, so a count that moves rewrites index items only when it doubles."""

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from anyascii import anyascii

from pinhole.posts.caption import extract_tags, fold_tag

PREFIX_MAX = 15
"""Prefixes up to this length are indexed; a longer query reads its 15-character prefix and filters."""
WORDS_READ = 3
"""A query of several words reads the partitions of its longest three (a match has a name word for each)."""
BUCKET_MAX = 63
TAG_SHARDS = 8
"""A tag's posts and counter are spread over this many partition keys (docs/SCALING.md, search)."""

_WORD_SEPARATORS = re.compile(r"[\W_]+")
_USERNAME_CHARACTERS = re.compile(r"^[a-z0-9._]+$")


def _fold(text: str) -> str:
    return "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))


def _latin_in_ascii(text: str) -> str:
    return "".join(
        anyascii(char) if not char.isascii() and unicodedata.name(char, "").startswith("LATIN ") else char
        for char in text
    )


def normalise(text: str) -> str:
    """Accent- and case-insensitive form. Folded again after case-folding: a compatibility form can
    decompose into capitals (㎒ → MHz) and a case mapping can bring a mark back."""
    return _latin_in_ascii(_fold(_fold(text).casefold())).lower()


def words(text: str) -> list[str]:
    """The normalised words of a text: runs of letters and digits, in any script."""
    return [word for word in _WORD_SEPARATORS.split(normalise(text)) if word]


def prefixes(term: str) -> list[str]:
    return [term[:length] for length in range(1, min(len(term), PREFIX_MAX) + 1)]


def user_terms(username: str, display_name: str) -> set[str]:
    """What a user is found by: the username whole, and each word of the display name."""
    return {normalise(username), *words(display_name)} - {""}


def user_prefixes(username: str, display_name: str) -> set[str]:
    return {prefix for term in user_terms(username, display_name) for prefix in prefixes(term)}


def bucket(count: int) -> int:
    """floor(log2(count + 1)): 0 for 0, 1 for 1, 2 for 2–3, 3 for 4–7 … (at most BUCKET_MAX)."""
    return min((max(count, 0) + 1).bit_length() - 1, BUCKET_MAX)


def ranked_key(rank: int, name: str) -> str:
    """A sort key that lists higher buckets first (ascending order), then by name."""
    return f"{BUCKET_MAX - rank:02d}#{name}"


def name_of_ranked_key(key: str) -> str:
    return key.split("#", 1)[1]


def tag_shard(post_id: str) -> int:
    """Which of the TAG_SHARDS partitions of a tag holds this post (fixed by the id, so a delete finds it)."""
    return int.from_bytes(hashlib.blake2b(post_id.encode(), digest_size=2).digest()) % TAG_SHARDS


def is_power_of_two(value: int) -> bool:
    return value > 0 and value & (value - 1) == 0


def valid_tag(text: str) -> str | None:
    """The tag a caption would extract from `#<text>` (lower-cased), or None if it is not one tag."""
    tag = text.strip().removeprefix("#")
    found = extract_tags(f"#{tag}")
    return found[0] if found == [fold_tag(tag)] else None


@dataclass(frozen=True)
class UserQuery:
    """A people search: the normalised text, as a username prefix and as display-name word prefixes."""

    text: str
    words: tuple[str, ...]

    @classmethod
    def parse(cls, query: str) -> "UserQuery":
        return cls(text=normalise(query).strip(), words=tuple(words(query)))

    @property
    def is_empty(self) -> bool:
        return not self.words and not self.could_be_username

    @property
    def could_be_username(self) -> bool:
        return bool(_USERNAME_CHARACTERS.match(self.text))

    def lookups(self) -> set[str]:
        """The index partitions to read: the username prefix, and the prefix of each word (the longest
        three), since a match by name has a name word starting with each of them."""
        found = {self.text[:PREFIX_MAX]} if self.could_be_username else set()
        longest = sorted(set(self.words), key=lambda word: (-len(word), word))[:WORDS_READ]
        return found | {word[:PREFIX_MAX] for word in longest}

    @property
    def is_narrowed(self) -> bool:
        """Whether a partition read holds entries this query does not match: several words, or more
        characters than the indexed prefixes have."""
        return len(self.words) > 1 or len(self.text) > PREFIX_MAX

    def matches_terms(self, terms: list[str]) -> bool:
        """The match, judged from an index entry's copy of the user's terms (the username among them)."""
        if self.could_be_username and any(term.startswith(self.text) for term in terms):
            return True
        return bool(self.words) and all(any(term.startswith(part) for term in terms) for part in self.words)

    def matches(self, username: str, display_name: str) -> bool:
        if self.could_be_username and username.startswith(self.text):
            return True
        name_words = words(display_name)
        return bool(self.words) and all(any(word.startswith(part) for word in name_words) for part in self.words)

    def is_exact(self, username: str) -> bool:
        return username == self.text
