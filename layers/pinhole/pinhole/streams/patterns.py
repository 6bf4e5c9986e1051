"""Event patterns as Lambda's event filtering (FilterCriteria) applies them to stream records: the EventBridge
syntax, in the subset Pinhole uses (literal values, `prefix`, `exists` and `anything-but`, at any depth).

One implementation for both places a pattern is applied: the stream routers (`pinhole.streams.logic`) send a
record to a consumer only if it matches one of the consumer's patterns, and the local cloud's event source
mappings drop the records that match none of a mapping's filters, as Lambda does. So a consumer's patterns
mean the same whether a mapping or a router applies them."""

from __future__ import annotations

import json
from typing import Any

_MISSING = object()


def _value_matches(value: Any, rule: Any) -> bool:
    if not isinstance(rule, dict):
        return value is not _MISSING and value == rule
    if "exists" in rule:
        return (value is not _MISSING) == bool(rule["exists"])
    if "prefix" in rule:
        return isinstance(value, str) and value.startswith(rule["prefix"])
    if "anything-but" in rule:
        excluded = rule["anything-but"]
        return value is not _MISSING and value not in (excluded if isinstance(excluded, list) else [excluded])
    raise ValueError(f"filter rule {rule!r} is not supported")


def matches(record: Any, pattern: dict[str, Any]) -> bool:
    for key, expected in pattern.items():
        value = record.get(key, _MISSING) if isinstance(record, dict) else _MISSING
        if isinstance(expected, dict):
            if not matches(value if isinstance(value, dict) else {}, expected):
                return False
        elif not any(_value_matches(value, rule) for rule in expected):
            return False
    return True


def patterns_of(filter_criteria: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [json.loads(item["Pattern"]) for item in (filter_criteria or {}).get("Filters", [])]


def wanted(record: dict[str, Any], patterns: list[dict[str, Any]]) -> bool:
    """No filters: every record; otherwise a record matching any pattern."""
    return not patterns or any(matches(record, pattern) for pattern in patterns)
