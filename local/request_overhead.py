"""Two costs every AWS call of every handler paid again and again in the local cloud, each the same answer
computed once: botocore's user-agent sanitizing and moto's list of a response class's methods.

Profiled over the direct-message benchmark's throughput phase (`python -m benchmarks.messaging_profile`,
docs/LOCAL_CLOUD.md "Where the time goes"): botocore builds each request's `User-Agent` twice, sanitizing
every component character by character (~85 calls per request, ~6% of a send's CPU), and moto's
`BaseResponse.call_action` lists the handler class's methods with `inspect.getmembers` on every request
(~5%) to see whether the action is one of them.

- `sanitize_user_agent_string_component` is a pure function of its two arguments: memoised.
- The method names are remembered per class; a name not among them is looked up again before the answer
  is no (a method added to a class later, as a patch might, is found). No patch removes a method.
Both rely on the source they were written against (fingerprinted as local/fast_dynamodb/moto_contract.py
does): another moto or botocore stops the start with `MotoChanged`, naming the function.
On AWS neither exists in our process: botocore's is the Lambda's own, microseconds, and moto is not there.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import botocore.useragent
import moto.core.responses
import moto.core.utils

from local.fast_dynamodb.moto_contract import MotoChanged, fingerprint

# The functions whose behaviour this relies on: call_action only asks `action in method_names`; the sanitizer
# reads nothing but its arguments.
WRITTEN_AGAINST = {
    "BaseResponse.call_action": (moto.core.responses.BaseResponse.call_action, "26076963fd17fd1a"),
    "sanitize_user_agent_string_component": (
        botocore.useragent.sanitize_user_agent_string_component,
        "4536076c32a93958",
    ),
}
_installed = False
_names: dict[type, MethodNames] = {}
_names_lock = threading.Lock()


class MethodNames:
    """What `method_names_from_class` gives moto's `call_action` (only ever asked `action in names`)."""

    def __init__(self, clazz: type, list_names: Callable[[type], list[str]]) -> None:
        self._clazz = clazz
        self._list_names = list_names
        self._names = frozenset(list_names(clazz))

    def __contains__(self, name: object) -> bool:
        if name in self._names:
            return True
        self._names = frozenset(self._list_names(self._clazz))
        return name in self._names

    def __iter__(self) -> Any:
        return iter(self._list_names(self._clazz))


def remembered_method_names(list_names: Callable[[type], list[str]]) -> Callable[[type], MethodNames]:
    def method_names_from_class(clazz: type) -> MethodNames:
        found = _names.get(clazz)
        if found is None:
            with _names_lock:
                found = _names.setdefault(clazz, MethodNames(clazz, list_names))
        return found

    return method_names_from_class


def install() -> None:
    """Idempotent; process-wide (every botocore client, every moto response class)."""
    global _installed
    if _installed:
        return
    changed = [name for name, (function, expected) in WRITTEN_AGAINST.items() if fingerprint(function) != expected]
    if changed:
        raise MotoChanged(f"local/request_overhead.py was written against other sources of: {', '.join(changed)}")
    botocore.useragent.sanitize_user_agent_string_component = functools.lru_cache(maxsize=4096)(
        botocore.useragent.sanitize_user_agent_string_component
    )
    moto.core.responses.method_names_from_class = remembered_method_names(  # type: ignore[assignment]
        moto.core.utils.method_names_from_class
    )
    _installed = True
