"""Lambda event filtering (FilterCriteria): records that match no pattern never reach the function, as
on AWS. Patterns use the EventBridge syntax; the subset here is literal values, `prefix`, `exists`
and `anything-but`, at any depth."""

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
    raise ValueError(f"filter rule {rule!r} is not emulated locally")


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
