"""The username a person signs up with: one every caption mentions exactly, stated alike by the API document and
the server, and never one that passes for the service or for a purged account."""

import jsonschema_rs
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pinhole.auth.models import SignUpRequest
from pinhole.posts.caption import extract_mentions
from pinhole.users.usernames import is_reserved_username

PASSWORD = "Correct-Horse-9"
# Names made mostly of the characters the rules are about, so full stops and underscores meet often
candidates = st.text(alphabet="a.Z_9.", min_size=1, max_size=32)


def signs_up(username: str) -> bool:
    try:
        SignUpRequest(username=username, email="a@example.com", password=PASSWORD)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("username", ["mxxxx.", "...", "___", "._.", ".abc", "ab..c", "abc.", "a.", "_.", "a_.b."])
def test_a_name_with_a_stray_full_stop_or_without_letter_or_digit_is_refused(username: str) -> None:
    assert not signs_up(username)


@pytest.mark.parametrize("username", ["mxxxx", "ada.lovelace_1", "_ada_", "a_.b", "__1", "a.b.c", "x" * 30, "ADA.L"])
def test_a_name_of_joined_runs_with_a_letter_or_digit_is_taken(username: str) -> None:
    assert signs_up(username)


PUNCTUATION = [".", "...", ",", "!", "?", ":", ";", ")", "'", '"', "…", "-", " and more", ".\n", "", "’s"]


@given(username=candidates.filter(signs_up), after=st.sampled_from(PUNCTUATION))
@example(username="mxxxx", after=".")
@settings(max_examples=500)
def test_every_name_sign_up_takes_is_mentioned_as_exactly_itself(username: str, after: str) -> None:
    # Given a name sign-up accepts (stored lower-case), mentioned at the end of a sentence or before punctuation
    caption = f"thanks @{username}{after}"

    # Then the caption mentions that name and no other account
    assert extract_mentions(caption) == [username.lower()]


@given(username=st.one_of(candidates, st.text(max_size=32)))
@example(username="abc.")
@example(username="ab\n")
@settings(max_examples=500)
def test_the_document_states_exactly_the_username_rules_the_server_checks(username: str) -> None:
    # Given the sign-up username as the OpenAPI document states it, read by a JSON Schema validator (ECMAScript)
    document = jsonschema_rs.validator_for(SignUpRequest.model_json_schema()["properties"]["username"])

    # Then a name the document calls valid is one the server takes, and the other way round (blanks around a
    # name are trimmed by the server: the document is read on the name as sent without them)
    assert document.is_valid(username.strip()) == signs_up(username.strip())


@pytest.mark.parametrize(
    "username",
    ["deleted.account", "Deleted_Account", "deletedaccount", "admin", "ADMIN", "ad.min", "_admin_", "pin_hole", "api"],
)
def test_the_purged_account_s_name_and_the_service_s_names_are_reserved_in_any_spelling(username: str) -> None:
    assert is_reserved_username(username)


@pytest.mark.parametrize("username", ["admiral", "admin1", "helper", "deleted.accounts", "ada", "apis"])
def test_names_that_merely_start_like_a_reserved_one_are_free(username: str) -> None:
    assert not is_reserved_username(username)
