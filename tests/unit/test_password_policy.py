import re

import jsonschema_rs
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pinhole.auth.password_policy import PASSWORD_POLICY, PasswordPolicy, password_problems


def test_strong_password_has_no_problems() -> None:
    assert password_problems("Correct-Horse-9") == []


def test_weak_password_names_every_broken_rule() -> None:
    problems = password_problems("abc")

    assert problems == [
        f"The password needs at least {PASSWORD_POLICY.min_length} characters.",
        "The password needs an upper-case letter.",
        "The password needs a digit.",
    ]


def test_symbol_rule_applies_only_when_the_policy_asks() -> None:
    strict = PasswordPolicy(require_symbols=True)

    assert password_problems("Correct1Horse", strict) == ["The password needs a symbol."]
    assert password_problems("Correct1Horse") == []


def test_letters_and_digits_beyond_basic_latin_do_not_count_as_cognito_s_do_not() -> None:
    assert password_problems("ÉÇÀÎ-éçàî-١٢٣") == [
        "The password needs a lower-case letter.",
        "The password needs an upper-case letter.",
        "The password needs a digit.",
    ]


def test_a_password_longer_than_cognito_takes_is_told_that_with_every_other_broken_rule() -> None:
    assert password_problems("x" * 257) == [
        "The password may have at most 256 characters.",
        "The password needs an upper-case letter.",
        "The password needs a digit.",
    ]
    assert password_problems("Aa1" + "x" * 253) == []


@settings(max_examples=300, deadline=None)
@given(password=st.text(alphabet=st.characters(codec="utf-8"), max_size=20), require_symbols=st.booleans())
@example(password="Aa1-" + "é" * 252, require_symbols=True)
@example(password="Aa1-" + "é" * 253, require_symbols=True)
def test_the_document_states_exactly_the_rules_the_server_checks(password: str, require_symbols: bool) -> None:
    # Given the policy as the API document states it, read by a JSON Schema validator (ECMAScript patterns)
    policy = PasswordPolicy(require_symbols=require_symbols)
    document = jsonschema_rs.validator_for({"type": "string", **policy.json_schema()})

    # Then a password the document calls valid is one the server finds nothing wrong with, and the other way round
    assert document.is_valid(password) == (password_problems(password, policy) == [])


def test_the_generated_examples_reach_both_sides_of_every_rule() -> None:
    strict = PasswordPolicy(require_symbols=True)
    assert re.search(strict.pattern, "Aa1-") and not re.search(strict.pattern, "Aa1b")
    assert not re.search(PASSWORD_POLICY.pattern, "aa1") and not re.search(PASSWORD_POLICY.pattern, "AA1")
