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
