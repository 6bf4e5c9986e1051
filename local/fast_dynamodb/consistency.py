"""How consistent the local DynamoDB is: `strong` (the default: what moto always was) or `eventual`.

In `eventual` mode the local cloud behaves as DynamoDB does where the product can notice it:
- **GSI reads lag**: a Query on a global secondary index sees the index as it was `gsi_lag_s` ago
  (each change reaches the index that long after it was made; a transaction's changes together, when it
  commits). DynamoDB propagates to GSIs asynchronously, typically within a second, with no way to read
  a GSI strongly.
- **Transactions are in flight for `transaction_window_s`** before they commit, holding their items: a
  TransactWriteItems (or TransactGetItems) touching an item another transaction holds is cancelled
  with `TransactionConflict`; a PutItem/UpdateItem/DeleteItem (or a BatchWriteItem put/delete) on such
  an item fails with TransactionConflictException; GetItem, Query and Scan read the last committed
  value, as on DynamoDB.
Base-table reads (GetItem, Query, Scan, BatchGetItem, TransactGetItems) and LSI reads do not lag, eventually
consistent or not: DynamoDB acknowledges a write once two of three replicas hold it, so a stale
eventually consistent read is possible but brief and rare, and a test that waits for it would
measure luck; the GSI lag is the staleness flows actually meet (docs/LOCAL_CLOUD.md, "Eventual
consistency")."""

from __future__ import annotations

from dataclasses import dataclass

STRONG = "strong"
EVENTUAL = "eventual"
DEFAULT_GSI_LAG_MS = 500
DEFAULT_TRANSACTION_WINDOW_MS = 20


@dataclass(frozen=True)
class Consistency:
    mode: str = STRONG
    gsi_lag_ms: int = DEFAULT_GSI_LAG_MS
    transaction_window_ms: int = DEFAULT_TRANSACTION_WINDOW_MS

    def __post_init__(self) -> None:
        if self.mode not in (STRONG, EVENTUAL):
            raise ValueError(f"consistency must be {STRONG!r} or {EVENTUAL!r}, not {self.mode!r}")
        if self.gsi_lag_ms < 0 or self.transaction_window_ms < 0:
            raise ValueError("the GSI lag and the transaction window cannot be negative")

    @property
    def eventual(self) -> bool:
        return self.mode == EVENTUAL

    @property
    def lags_gsis(self) -> bool:
        return self.eventual and self.gsi_lag_ms > 0

    @property
    def gsi_lag_s(self) -> float:
        return self.gsi_lag_ms / 1000

    @property
    def transaction_window_s(self) -> float:
        return self.transaction_window_ms / 1000

    def describe(self) -> str:
        if not self.eventual:
            return "strong (reads see every committed write)"
        return (
            f"eventual (GSI reads lag {self.gsi_lag_ms} ms; transactions in flight {self.transaction_window_ms} ms "
            "and cancelled on conflict)"
        )


settings = Consistency()
