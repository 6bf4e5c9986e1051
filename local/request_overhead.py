"""Costs every AWS call of every handler paid again and again in the local cloud: botocore's sanitizing of the
`User-Agent` components (the same answer, computed once), and moto's request id (the same draws, made directly).

Profiled over the direct-message benchmark's throughput phase (`python -m benchmarks.messaging_profile`,
docs/LOCAL_CLOUD.md "Where the time goes"): botocore builds each request's `User-Agent` twice, sanitizing
every component character by character (~85 calls per request, ~6% of a send's CPU).
`sanitize_user_agent_string_component` is a pure function of its two arguments: memoised. It relies on the
source it was written against (fingerprinted as local/fast_dynamodb/moto_contract.py does): another botocore
stops the start with `MotoChanged`. On AWS this is the Lambda's own botocore, in microseconds per call.
(moto's `call_action` listing the response class's methods on every request, ~5% of a send, is
local/moto_dispatch.py's.)

moto gives every response a 52-character request id, each character a `random.choice` of 62 from its generator
(`mock_random`, which a test may seed): two Python calls around one `getrandbits(6)`, redrawn while it is 62 or
more: 13.4 µs per AWS call (timeit, load 1.9). `request_id` makes the same draws from the same generator directly
(3.0 µs): the same ids, seed for seed, as local/moto_sqs_receive.py does for receipt handles.

moto's JSON errors (every DynamoDB, SQS and Cognito error: `JsonRESTError`) first build an XML body with xmltodict
in `_RESTError.__init__`, then replace it with their JSON one: ~29 µs per error, and moto raises some in normal
flows (an `ADD` to an attribute an item does not have yet raises and catches `ProvidedKeyDoesNotExist`: 5% of a
DM send's TransactWriteItems). `json_error_init` sets what the two constructors leave set, without the XML.
"""

from __future__ import annotations

import functools
import json
import random
import string
from typing import Any

import botocore.useragent
from moto.core import responses
from moto.core.exceptions import JsonRESTError, _RESTError
from moto.moto_api._internal import mock_random
from moto.moto_api._internal.moto_random import MotoRandom
from moto.utilities import aws_headers

from local.fast_dynamodb.moto_contract import MotoChanged, fingerprint

SANITIZER = "sanitize_user_agent_string_component"
WRITTEN_AGAINST = {
    SANITIZER: (botocore.useragent.sanitize_user_agent_string_component, "4536076c32a93958"),
    "gen_amzn_requestid_long": (aws_headers.gen_amzn_requestid_long, "e651941c2107cdc2"),
    "MotoRandom.get_random_string": (MotoRandom.get_random_string, "942eb93ebea1f80a"),
    "JsonRESTError.__init__": (JsonRESTError.__init__, "c4d537e5b3334543"),
    "_RESTError.__init__": (_RESTError.__init__, "ee3198e8672e579c"),
}
MOTOS_JSON_ERROR_INIT = JsonRESTError.__init__
REQUEST_ID_LENGTH = 52
REQUEST_ID_CHARACTERS = string.ascii_letters + string.digits  # get_random_string's pool, digits included
# What `drawn_as_choices` makes again: how a Random chooses.
CHOICE_WRITTEN_AGAINST = {
    "Random.choice": (random.Random.choice, "cf51676d79ea29c2"),
    "Random._randbelow_with_getrandbits": (random.Random._randbelow_with_getrandbits, "ddae4cce28f2fb4a"),  # type: ignore[attr-defined]
}
_installed = False


def choice_changed(generator: random.Random) -> list[str]:
    """What differs from the choosing `drawn_as_choices` makes again, for this generator: Python's
    `Random.choice` and `_randbelow_with_getrandbits`, and the generator's class using both."""
    changed = [
        name for name, (function, expected) in CHOICE_WRITTEN_AGAINST.items() if fingerprint(function) != expected
    ]
    kind = type(generator)
    if (kind.choice, kind._randbelow) != (  # type: ignore[attr-defined]
        random.Random.choice,
        random.Random._randbelow_with_getrandbits,  # type: ignore[attr-defined]
    ):
        changed.append(f"{kind.__name__} chooses otherwise than random.Random.choice with getrandbits")
    return changed


def json_error_init(self: JsonRESTError, error_type: str, message: str, _: str = "", **kwargs: Any) -> None:
    """`JsonRESTError.__init__`: what it and `_RESTError.__init__` leave set (the XML body, replaced, not built)."""
    super(_RESTError, self).__init__()  # what _RESTError.__init__ starts with
    self.error_type = error_type
    self.message = message
    self.description = json.dumps({"__type": self.error_type, "message": self.message})
    self.content_type = "application/json"


def drawn_as_choices(generator: random.Random, alphabet: str, length: int) -> str:
    """`"".join(generator.choice(alphabet) for _ in range(length))`, the same `getrandbits` draws made directly:
    `Random.choice` asks `_randbelow_with_getrandbits(len(alphabet))`, which draws `len(alphabet).bit_length()`
    bits until they make a number below `len(alphabet)` (`choice_changed` checks that this is still so)."""
    getrandbits, size = generator.getrandbits, len(alphabet)
    bits = size.bit_length()
    characters = []
    for _ in range(length):
        drawn = getrandbits(bits)
        while drawn >= size:
            drawn = getrandbits(bits)
        characters.append(alphabet[drawn])
    return "".join(characters)


def request_id(headerdict: dict[str, Any] | None = None) -> str:
    """moto's `gen_amzn_requestid_long`: 52 `mock_random.choice`s of letters and digits, the same draws, direct."""
    found = drawn_as_choices(mock_random, REQUEST_ID_CHARACTERS, REQUEST_ID_LENGTH)
    if headerdict is not None and isinstance(headerdict, dict):
        headerdict.update({"x-amzn-requestid": found})
    return found


def install() -> None:
    """Idempotent; process-wide (every botocore client)."""
    global _installed
    if _installed:
        return
    changed = [name for name, (function, expected) in WRITTEN_AGAINST.items() if fingerprint(function) != expected]
    changed += choice_changed(mock_random)
    if changed:
        raise MotoChanged(f"local/request_overhead.py was written against other sources of: {', '.join(changed)}")
    botocore.useragent.sanitize_user_agent_string_component = functools.lru_cache(maxsize=4096)(
        botocore.useragent.sanitize_user_agent_string_component
    )
    JsonRESTError.__init__ = json_error_init  # type: ignore[method-assign]
    responses.gen_amzn_requestid_long = request_id  # what BaseResponse._enrich_response calls
    aws_headers.gen_amzn_requestid_long = request_id
    _installed = True
