"""A cost every AWS call of every handler paid again and again in the local cloud, the same answer computed
once: botocore's sanitizing of the `User-Agent` components.

Profiled over the direct-message benchmark's throughput phase (`python -m benchmarks.messaging_profile`,
docs/LOCAL_CLOUD.md "Where the time goes"): botocore builds each request's `User-Agent` twice, sanitizing
every component character by character (~85 calls per request, ~6% of a send's CPU).
`sanitize_user_agent_string_component` is a pure function of its two arguments: memoised. It relies on the
source it was written against (fingerprinted as local/fast_dynamodb/moto_contract.py does): another botocore
stops the start with `MotoChanged`. On AWS this is the Lambda's own botocore, in microseconds per call.
(moto's `call_action` listing the response class's methods on every request, ~5% of a send, is
local/moto_dispatch.py's, on the branch that adds it.)
"""

from __future__ import annotations

import functools

import botocore.useragent

from local.fast_dynamodb.moto_contract import MotoChanged, fingerprint

SANITIZER = "sanitize_user_agent_string_component"
WRITTEN_AGAINST = {SANITIZER: (botocore.useragent.sanitize_user_agent_string_component, "4536076c32a93958")}
_installed = False


def install() -> None:
    """Idempotent; process-wide (every botocore client)."""
    global _installed
    if _installed:
        return
    changed = [name for name, (function, expected) in WRITTEN_AGAINST.items() if fingerprint(function) != expected]
    if changed:
        raise MotoChanged(f"local/request_overhead.py was written against other sources of: {', '.join(changed)}")
    botocore.useragent.sanitize_user_agent_string_component = functools.lru_cache(maxsize=4096)(
        botocore.useragent.sanitize_user_agent_string_component
    )
    _installed = True
