"""An attribute value's Python value (`DynamoType.cast_value`) for strings, binaries and booleans, without the
five type questions moto asks first.

Every key lookup in a table's partitions hashes and compares moto `DynamoType`s, and `__hash__`, `__eq__` and the
ordering operators all go through `cast_value`: for a string it asks `is_number`, `is_set`, `is_list`, `is_map`
and `is_null` (five method calls) before returning the value unchanged. The ranked feed's first page made ~4,000
such lookups (its 500 candidates' standings, each a `GetItem` inside a BatchGetItem); a lookup in a dict keyed by
DynamoTypes took 1.12 µs, 0.29 µs with this. For "S", "B" and "BOOL" every one of those questions is no, so
moto's property returns `self.value`: this returns it at once, and asks moto's property for every other type.
Source: moto 5.2.5 `DynamoType.cast_value` and the `is_*` methods it calls, fingerprinted in moto_contract.py."""

from __future__ import annotations

from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType

MOTOS_CAST_VALUE: Any = DynamoType.__dict__["cast_value"]
_AS_STORED = frozenset({"S", "B", "BOOL"})  # none of them a number, set, list, map or null


def _cast_value(self: DynamoType) -> Any:
    if self.type in _AS_STORED:
        return self.value
    return MOTOS_CAST_VALUE.fget(self)


def install() -> None:
    """Idempotent; process-wide (moto's own DynamoDB too: the answers are the same)."""
    DynamoType.cast_value = property(_cast_value)  # type: ignore[method-assign,assignment]
