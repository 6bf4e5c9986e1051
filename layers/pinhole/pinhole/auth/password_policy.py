"""The password policy, stated once: the Cognito user pool is built from it (stacks/) and sign-up
checks it first (so a weak password is a 422 with details before anything is created)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 10
    require_lowercase: bool = True
    require_uppercase: bool = True
    require_digits: bool = True
    require_symbols: bool = False
    temp_password_validity_days: int = 1


PASSWORD_POLICY = PasswordPolicy()


def password_problems(password: str, policy: PasswordPolicy = PASSWORD_POLICY) -> list[str]:
    """Every rule of the policy that the password breaks, in words a user understands."""
    rules = [
        (len(password) >= policy.min_length, f"at least {policy.min_length} characters"),
        (not policy.require_lowercase or any(c.islower() for c in password), "a lower-case letter"),
        (not policy.require_uppercase or any(c.isupper() for c in password), "an upper-case letter"),
        (not policy.require_digits or any(c.isdigit() for c in password), "a digit"),
        (not policy.require_symbols or any(not c.isalnum() for c in password), "a symbol"),
    ]
    return [f"The password needs {rule}." for satisfied, rule in rules if not satisfied]
