"""The fast DynamoDB (local/fast_dynamodb) answers as moto does: seeded random sequences of operations,
each sent to both, every answer, error, stream record and final table compared
(tests/support/dynamodb_differential.py). 12 seeds × 250 operations here; `make soak` runs
soak/dynamodb_differential.py with many more. A failure names the seed and the step: rerun it with
`run_seed(seed, operations)` to see the request and both answers."""

import pytest

from tests.support.dynamodb_differential import Differential, run_seed

SEEDS = range(12)
OPERATIONS = 250


@pytest.mark.parametrize("seed", SEEDS)
def test_a_random_operation_sequence_gets_moto_s_answers_errors_and_stream_records(seed: int) -> None:
    tally = run_seed(seed, OPERATIONS)

    assert sum(tally.operations.values()) == OPERATIONS
    assert set(tally.operations) == set(Differential.WEIGHTS)
    assert tally.errors > 0  # conditions refused, transactions cancelled, validation errors: compared too
    assert tally.stream_records > 0
