"""The password policy, stated once: the Cognito user pool is built from it (stacks/), the API document states
it for a new password (`json_schema`), and sign-up, a change and a reset check it first (`password_problems`: a
weak or too long password is a 422 with a sentence per broken rule before anything is created).

The character classes are Cognito's: the basic Latin letters and digits, and its list of symbols (what moto
checks too). `é` is not a lower-case letter here, as it is not to Cognito."""

import re
from dataclasses import dataclass

# Cognito's symbols (its developer guide, "Password requirements"), as the inside of a character class: only
# what a class gives meaning to is escaped, so that ECMAScript (with or without its `u` flag) and Python agree
_SYMBOLS = "".join(f"\\{symbol}" if symbol in "\\[]^-" else symbol for symbol in "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-")


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 10
    max_length: int = 256
    """Not a setting of the pool: the longest password Cognito's API takes (its `PasswordType`), whatever the policy."""
    require_lowercase: bool = True
    require_uppercase: bool = True
    require_digits: bool = True
    require_symbols: bool = False
    temp_password_validity_days: int = 1

    @property
    def required_classes(self) -> list[tuple[str, str]]:
        """Each character class a password must hold one of: (its regex class body, its name for people)."""
        classes = [
            (self.require_lowercase, "a-z", "a lower-case letter"),
            (self.require_uppercase, "A-Z", "an upper-case letter"),
            (self.require_digits, "0-9", "a digit"),
            (self.require_symbols, _SYMBOLS, "a symbol"),
        ]
        return [(body, name) for required, body, name in classes if required]

    @property
    def pattern(self) -> str:
        """One lookahead per required class, read alike by ECMAScript (the document) and Python's re."""
        return "^" + "".join(f"(?=[^{body}]*[{body}])" for body, _ in self.required_classes)

    def json_schema(self) -> dict[str, object]:
        """What the API document says of a new password: the policy, as minLength, maxLength and pattern."""
        return {
            "format": "password",
            "minLength": self.min_length,
            "maxLength": self.max_length,
            "pattern": self.pattern,
        }


PASSWORD_POLICY = PasswordPolicy()


def password_problems(password: str, policy: PasswordPolicy = PASSWORD_POLICY) -> list[str]:
    """Every rule of the policy that the password breaks, in words a user understands."""
    problems = [] if len(password) >= policy.min_length else [f"at least {policy.min_length} characters"]
    problems += [name for body, name in policy.required_classes if not re.search(f"[{body}]", password)]
    sentences = [f"The password needs {problem}." for problem in problems]
    if len(password) > policy.max_length:
        sentences.insert(0, f"The password may have at most {policy.max_length} characters.")
    return sentences
