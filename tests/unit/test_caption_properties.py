"""Caption parsing under any text (property-based): extracting hashtags and mentions never raises,
stays within its limits, is idempotent, agrees with how tag search reads a tag, and ignores what is not
a tag or a mention (e-mail addresses, links, runs glued to a word)."""

import re
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pinhole.posts.caption import MAX_MENTIONS, MAX_TAG_LENGTH, MAX_TAGS, extract_mentions, extract_tags
from pinhole.search.terms import normalise, valid_tag

USERNAME = re.compile(r"^[a-z0-9._]{3,30}$")
words = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
usernames = st.from_regex(r"[a-z0-9_][a-z0-9._]{1,28}[a-z0-9_]", fullmatch=True)
# Captions made of pieces that look like tags, mentions, addresses and links, and any text between
pieces = st.one_of(
    words,
    words.map(lambda word: f"#{word}"),
    usernames.map(lambda name: f"@{name}"),
    st.sampled_from(["#", "@", "##x", "@@x", "a@b.co", "https://example.com/#top", "www.x.co/@bob", "#ß", "#İx"]),
)
captions = st.lists(pieces, max_size=40).map(" ".join)


@given(caption=captions)
@example(caption="#" + "a" * 3000)
@example(caption="@... @ab. @a..b")
@settings(max_examples=400)
def test_extraction_never_raises_and_stays_within_its_limits(caption: str) -> None:
    tags, mentions = extract_tags(caption), extract_mentions(caption)

    assert len(tags) <= MAX_TAGS and len(set(tags)) == len(tags)
    assert len(mentions) <= MAX_MENTIONS and len(set(mentions)) == len(mentions)
    assert all(0 < len(tag) <= MAX_TAG_LENGTH for tag in tags)
    assert all(USERNAME.match(name) for name in mentions), mentions


@given(caption=captions)
@example(caption="#ẖ")  # case folding decomposes it (h + U+0331): found by hypothesis
@settings(max_examples=400)
def test_every_extracted_tag_reads_back_as_itself(caption: str) -> None:
    # The tag stored on a post is what GET /tags/{tag}/posts and search accept for it
    for tag in extract_tags(caption):
        assert valid_tag(tag) == tag
        assert extract_tags(f"#{tag}") == [tag]
        assert tag == unicodedata.normalize("NFC", tag) == unicodedata.normalize("NFC", tag.casefold())
        assert normalise(tag)  # search indexes it under a non-empty term


@given(caption=captions)
def test_extraction_is_idempotent(caption: str) -> None:
    tags, mentions = extract_tags(caption), extract_mentions(caption)
    rewritten = " ".join([*(f"#{tag}" for tag in tags), *(f"@{name}" for name in mentions)])

    assert extract_tags(rewritten) == tags
    assert extract_mentions(rewritten) == mentions


@given(caption=captions)
def test_a_letter_with_a_combining_accent_and_its_precomposed_form_give_the_same_tags(caption: str) -> None:
    assert extract_tags(unicodedata.normalize("NFD", caption)) == extract_tags(unicodedata.normalize("NFC", caption))


@given(name=usernames, word=st.from_regex(r"[A-Za-z0-9]{1,10}", fullmatch=True))
def test_addresses_links_and_glued_runs_are_ignored(name: str, word: str) -> None:
    ignored = f"{word}@{name}.com https://example.com/{word}#{word} www.example.com/@{name} {word}#{word} ##{word}"

    assert extract_tags(ignored) == []
    assert extract_mentions(ignored) == []


@given(name=usernames, punctuation=st.sampled_from([".", ",", "!", "?", ":", ")", "'s", "…"]))
def test_a_mention_ends_where_the_username_ends(name: str, punctuation: str) -> None:
    assert extract_mentions(f"thanks @{name.upper()}{punctuation}") == [name.rstrip(".")]


@pytest.mark.parametrize(
    ("caption", "tags"),
    [
        ("#हिन्दी", ["हिन्दी"]),  # vowel signs are combining marks
        ("#cafe\u0301 #café", ["café"]),
        ("#İstanbul", ["i̇stanbul"]),
        ("#" + "a" * (MAX_TAG_LENGTH + 1), []),
        ("#_ #__ #a#b", ["__", "a"]),
    ],
)
def test_tags_in_any_script_are_whole(caption: str, tags: list[str]) -> None:
    assert extract_tags(caption) == tags


@pytest.mark.parametrize("caption", ["@...", "@ab.", "@a..", "@" + "a" * 31, "@bobé"])
def test_what_cannot_be_a_username_is_no_mention(caption: str) -> None:
    assert extract_mentions(caption) == []
