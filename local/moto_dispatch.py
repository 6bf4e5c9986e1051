"""moto's per-request dispatch without its repeated class walk.

For every request, moto's `BaseResponse.call_action` lists the handler class's functions with
`inspect.getmembers` (`method_names_from_class`: `dir()` of the class and a `getattr` of each of its few
hundred names) only to ask whether the action is one of them. That was 7% of an in-process GetItem's CPU
(docs/LOCAL_CLOUD.md, "Where the time goes"). Here the answer is the same question asked of the one name:
`FunctionNames(cls)` holds an action exactly when `getattr(cls, action)` is a function, which is what
`inspect.getmembers(cls, inspect.isfunction)` lists. Source: moto 5.2.5 `method_names_from_class`
(core/utils.py), `BaseResponse.call_action` (core/responses.py), checked at install by fingerprint."""

from __future__ import annotations

import hashlib
import inspect
from typing import Any

from moto.core import responses
from moto.core import utils as moto_utils

# What the replacement reproduces: a change in either fails the install.
FINGERPRINTS = {
    "method_names_from_class": "9dbac89d082b655f",
    "BaseResponse.call_action": "26076963fd17fd1a",
}


class MotoDispatchChanged(RuntimeError):
    """moto's dispatch is not the one this module was written against."""


class FunctionNames:
    """The names of a class's functions, as `method_names_from_class` lists them, asked one at a time."""

    __slots__ = ("cls",)

    def __init__(self, cls: Any) -> None:
        self.cls = cls

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and inspect.isfunction(getattr(self.cls, name, None))


def _fingerprint(function: Any) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]


def current_fingerprints() -> dict[str, str]:
    return {
        "method_names_from_class": _fingerprint(moto_utils.method_names_from_class),
        "BaseResponse.call_action": _fingerprint(responses.BaseResponse.call_action),
    }


def install() -> None:
    """Idempotent; process-wide (every moto service, in process and in the server thread)."""
    if getattr(responses.method_names_from_class, "__module__", None) == __name__:
        return
    changed = {name for name, value in current_fingerprints().items() if FINGERPRINTS[name] != value}
    if changed:
        raise MotoDispatchChanged(f"local/moto_dispatch.py: moto's {sorted(changed)} changed; re-check and update")
    responses.method_names_from_class = FunctionNames  # type: ignore[assignment]


if __name__ == "__main__":
    for name, value in current_fingerprints().items():
        print(f'    "{name}": "{value}",')
