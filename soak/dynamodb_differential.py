"""The fast DynamoDB against moto's own, at length: many more seeded operation sequences than `make
test` runs (tests/integration/test_fast_dynamodb_differential.py runs 12 × 250), every answer, error and
stream record compared (tests/support/dynamodb_differential.py). Seeds start where the test's end, so
each soak adds coverage. The fast path's calls are answered as the local cloud answers them (at botocore's
before-call, local/direct_calls.py). PINHOLE_SOAK_DYNAMODB_SEEDS and PINHOLE_SOAK_DYNAMODB_OPERATIONS size it."""

import os
import time
from collections import Counter
from typing import Any

import tests.conftest  # noqa: F401 - test settings (fake credentials, a region) before moto and boto3
from tests.support.dynamodb_differential import run_seed

FIRST_SEED = 1000
SEEDS = int(os.environ.get("PINHOLE_SOAK_DYNAMODB_SEEDS", "100"))
OPERATIONS = int(os.environ.get("PINHOLE_SOAK_DYNAMODB_OPERATIONS", "1000"))


def run() -> dict[str, Any]:
    started = time.perf_counter()
    operations: Counter[str] = Counter()
    requests = errors = records = 0
    for seed in range(FIRST_SEED, FIRST_SEED + SEEDS):
        # raises Divergence, naming seed and step, at the first difference
        tally = run_seed(seed, OPERATIONS, direct=True)
        operations.update(tally.operations)
        requests += tally.requests
        errors += tally.errors
        records += tally.stream_records
        print(f"seed {seed}: {tally.requests} requests compared", flush=True)
    return {
        "seeds": [FIRST_SEED, FIRST_SEED + SEEDS - 1],
        "operations_per_seed": OPERATIONS,
        "operations": dict(operations),
        "requests_compared": requests,
        "errors_compared": errors,
        "stream_records_compared": records,
        "divergences": 0,
        "seconds": round(time.perf_counter() - started, 1),
    }
