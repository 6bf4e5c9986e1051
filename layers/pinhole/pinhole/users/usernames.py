"""The rules of a username, stated once: what a name that refers to someone may look like, what a new name must
be, and which names nobody may take.

API.md says 3 to 30 of `a-z 0-9 . _`. A name chosen at sign-up must also be one that can be mentioned exactly,
as Instagram's rules make sure: a caption reads a full stop after a mention as the end of a sentence
(`thanks @ada.`), so a name that ended in one (`ada.`) would be mentioned as another account (`ada`), and one of
only stops and underscores (`...`, `___`) reads as punctuation. So a new name neither starts nor ends with a full
stop, holds no two in a row, and has at least one letter or digit. A name in a path or a message (`USERNAME_PATTERN`)
keeps API.md's wider form: an account made before these rules stays reachable by its name.

Names read case-insensitively (`Admin` is `admin`), so a pattern admits upper case: the stored form is lower-case."""

import re

USERNAME_PATTERN = r"^[A-Za-z0-9._]{3,30}$"
"""Any name an account may have (API.md's form): what a route or a message that names someone accepts."""

USERNAME_LENGTH = (3, 30)
NEW_USERNAME_PATTERN = r"^(?:[A-Za-z0-9_]+\.)*_*[A-Za-z0-9][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*$"
"""A name to sign up with (of `USERNAME_LENGTH`): runs of letters, digits and underscores joined by single full
stops, one run holding a letter or digit. No lookaround, which pydantic's regex engine does not take; ECMAScript
(the API document) and Rust read it alike."""

DELETED_USERNAME = "deleted.account"
"""The name a purged account is shown by, where others keep what it took part in (docs/PRIVACY.md)."""

RESERVED_USERNAMES = frozenset(
    {
        DELETED_USERNAME,
        "admin",
        "administrator",
        "moderator",
        "support",
        "pinhole",
        "help",
        "security",
        "root",
        "api",
        "system",
        "official",
    }
)
"""Names that would pass for the service itself, or for the stand-in of a purged account."""

_SEPARATORS = re.compile(r"[._]")
_RESERVED_SPELLINGS = frozenset(_SEPARATORS.sub("", name) for name in RESERVED_USERNAMES)


def is_reserved_username(username: str) -> bool:
    """Whether the name is a reserved one, in any case and however full stops and underscores are put in or left out
    (`Deleted_Account`, `deletedaccount`, `ad.min`, `_admin_` read as the names they imitate)."""
    return _SEPARATORS.sub("", username.lower()) in _RESERVED_SPELLINGS
