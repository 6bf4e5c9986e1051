"""How a transaction (a like and its counter, a message and its inboxes) copes with refusals and
collisions (no network: the transaction is a stand-in that fails as scripted)."""

from typing import Any

import pytest
from pynamodb.connection import Connection
from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

from pinhole.shared import transactions as dal


def cancelled(*codes: str | None) -> TransactWriteError:
    reasons = [CancellationReason(code=code) if code else None for code in codes]
    cause = VerboseClientError(
        {"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}},
        "TransactWriteItems",
        cancellation_reasons=reasons,
    )
    return TransactWriteError("Failed to write transaction items", cause)


class Scripted:
    """Stands in for TransactWrite: each commit raises the next scripted error, or succeeds on None."""

    def __init__(self, outcomes: list[TransactWriteError | None]) -> None:
        self.outcomes = outcomes
        self.commits = 0

    def __call__(self, connection: Connection) -> "Scripted":
        return self

    def __enter__(self) -> "Scripted":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.commits += 1
        outcome = self.outcomes.pop(0)
        if outcome is not None:
            raise outcome


@pytest.fixture
def pauses() -> list[float]:
    return []


def run(monkeypatch: pytest.MonkeyPatch, outcomes: list[TransactWriteError | None], pauses: list[float]) -> bool:
    scripted = Scripted(outcomes)
    monkeypatch.setattr(dal, "TransactWrite", scripted)
    return dal.commit(lambda transaction: None, Connection(), sleep=pauses.append)


def test_commit_reports_a_refusing_condition_without_retrying(
    monkeypatch: pytest.MonkeyPatch, pauses: list[float]
) -> None:
    outcomes = [cancelled("ConditionalCheckFailed", None), None]

    assert run(monkeypatch, outcomes, pauses) is False
    assert (pauses, len(outcomes)) == ([], 1)


def test_commit_retries_a_collision_with_another_transaction(
    monkeypatch: pytest.MonkeyPatch, pauses: list[float]
) -> None:
    outcomes = [cancelled(None, "TransactionConflict"), cancelled("TransactionConflict", None), None]

    assert run(monkeypatch, outcomes, pauses) is True
    assert len(pauses) == 2 and all(0 <= pause <= 0.04 for pause in pauses)


def test_commit_gives_up_after_the_last_collision(monkeypatch: pytest.MonkeyPatch, pauses: list[float]) -> None:
    outcomes: list[TransactWriteError | None] = [cancelled(None, "TransactionConflict")] * dal.CONFLICT_ATTEMPTS

    with pytest.raises(TransactWriteError):
        run(monkeypatch, outcomes, pauses)
    assert len(pauses) == dal.CONFLICT_ATTEMPTS - 1
    assert all(0 <= pause <= dal.PAUSE_CAP_S for pause in pauses) and sum(pauses) <= 4.46


def test_commit_raises_other_failures_at_once(monkeypatch: pytest.MonkeyPatch, pauses: list[float]) -> None:
    with pytest.raises(TransactWriteError):
        run(monkeypatch, [cancelled("ThrottlingError", None), None], pauses)
    assert pauses == []
