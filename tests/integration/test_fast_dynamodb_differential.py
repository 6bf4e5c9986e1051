"""The fast DynamoDB (local/fast_dynamodb) answers as moto does: seeded random sequences of operations,
each sent to both, every answer, error, stream record and final table compared
(tests/support/dynamodb_differential.py). 12 seeds × 250 operations here, the fast path's calls answered at
botocore's before-call as the local cloud answers them (local/direct_calls.py), three of the seeds also at
before-send (local/in_process.py's path, and mock_aws's); `make soak` runs soak/dynamodb_differential.py with
many more. A failure names the seed and the step: rerun it with
`run_seed(seed, operations)` to see the request and both answers."""

import pytest

from tests.support.dynamodb_differential import Differential, run_seed

SEEDS = range(12)
OPERATIONS = 250
ANSWERED = [pytest.param(seed, True, id=f"{seed}-before-call") for seed in SEEDS] + [
    pytest.param(seed, False, id=f"{seed}-before-send") for seed in SEEDS[:3]
]


@pytest.mark.parametrize(("seed", "direct"), ANSWERED)
def test_a_random_operation_sequence_gets_moto_s_answers_errors_and_stream_records(seed: int, direct: bool) -> None:
    tally = run_seed(seed, OPERATIONS, direct=direct)

    assert sum(tally.operations.values()) == OPERATIONS
    assert set(tally.operations) == set(Differential.WEIGHTS)
    assert tally.errors > 0  # conditions refused, transactions cancelled, validation errors: compared too
    assert tally.stream_records > 0
