"""A fast DynamoDB under moto's semantics, for the local cloud and the integration tests.

    from local.fast_dynamodb import Consistency, install
    install()                                   # strong consistency, as moto
    install(Consistency("eventual", gsi_lag_ms=500))

What it changes, module by module (each against moto 5.2.5, checked at install by moto_contract.py):
- storage.py: tables keep their partitions and secondary indexes sorted and maintained on every
  write; items are copy-on-write, so nothing is deep-copied to be read;
- reads.py: Query reads the queried partition (of the table or of an index) from where the page
  starts; Scan walks the partitions in order; both return moto's results;
- writes.py, expressions.py: PutItem/UpdateItem build and update items without quadratic size checks,
  re-parsing or pickle-speed copies;
- transactions.py: TransactWriteItems without table copies; in eventual mode, transactions in flight
  and DynamoDB's conflicts;
- streams.py: stream records rendered when read; locking.py: a lock per table instead of one for all;
- consistency.py: the opt-in eventual-consistency mode (GSI lag, transaction conflicts).
tests/integration/local/test_fast_dynamodb_differential.py proves the answers, errors and stream
records equal to moto's over seeded random operation sequences (`make soak` runs many more)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from local.fast_dynamodb import consistency, moto_contract
from local.fast_dynamodb.backend import install_patches, installed, vanilla_accounts
from local.fast_dynamodb.consistency import Consistency
from local.fast_dynamodb.storage import FastTable

__all__ = ["Consistency", "configure", "install", "moto_reference_account"]


def install(settings: Consistency | None = None) -> None:
    """Patches moto (once per process; fails with MotoChanged if moto is not the pinned one) and, if
    given, sets the consistency mode."""
    if not installed():
        moto_contract.check()  # moto's own functions: before any is replaced
        install_patches()
    if settings is not None:
        configure(settings)


def configure(settings: Consistency) -> None:
    """Sets the consistency mode for every table of the process, existing ones included."""
    consistency.settings = settings
    from moto.dynamodb.models import dynamodb_backends

    for account_backends in list(dynamodb_backends.values()):
        for backend in list(account_backends.values()):
            for table in list(backend.tables.values()):
                if isinstance(table, FastTable):
                    with table._lock:
                        table.set_gsi_lag(settings.lags_gsis)


@contextlib.contextmanager
def moto_reference_account(account_id: str) -> Iterator[None]:
    """Within this block, the DynamoDB backends of `account_id` are moto's own, unpatched (the
    differential test's reference)."""
    vanilla_accounts.add(account_id)
    try:
        yield
    finally:
        vanilla_accounts.discard(account_id)
