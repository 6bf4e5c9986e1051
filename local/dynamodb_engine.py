"""Which DynamoDB the local cloud runs on moto: the fast path (local/fast_dynamodb, the default, with the
handlers' botocore parsing JSON responses by compiled converters, local/response_parsing.py) or moto as the
local cloud ran it before (`PINHOLE_DYNAMODB=moto`: one lock for all of DynamoDB, local/moto_atomicity.py's
transactions, botocore's own parser), kept so that benchmarks can measure both side by side. One process runs
one of them: moto's classes and botocore's parser table are patched process-wide."""

from __future__ import annotations

import os

from local.fast_dynamodb import Consistency, install
from local.moto_atomicity import make_dynamodb_atomic
from local.response_parsing import install as parse_responses_compiled

ENGINE_VARIABLE = "PINHOLE_DYNAMODB"
FAST = "fast"
MOTO = "moto"


def engine() -> str:
    chosen = os.environ.get(ENGINE_VARIABLE, FAST)
    if chosen not in (FAST, MOTO):
        raise ValueError(f"{ENGINE_VARIABLE} must be {FAST!r} or {MOTO!r}, not {chosen!r}")
    return chosen


def use_dynamodb(consistency: Consistency | None = None) -> str:
    """Patches moto for the chosen engine (and consistency); returns the engine's name."""
    chosen = engine()
    if chosen == MOTO:
        if consistency is not None and consistency.eventual:
            raise ValueError(f"eventual consistency needs the fast DynamoDB ({ENGINE_VARIABLE}={FAST})")
        make_dynamodb_atomic()
    else:
        install(consistency or Consistency())
        parse_responses_compiled()
    return chosen
