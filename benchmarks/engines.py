"""Benchmarks measured on both DynamoDBs the local cloud can run, side by side in one run: moto as the
local cloud ran it before the fast path (`moto`) and the fast path (`fast`); see local/dynamodb_engine.py.
PINHOLE_BENCH_ENGINES=fast (or moto) measures one of them only, for a quick run."""

from __future__ import annotations

import os
from typing import Any

from local.dynamodb_engine import ENGINE_VARIABLE, FAST, MOTO

__all__ = ["ENGINE_VARIABLE", "engines", "side_by_side"]


def engines() -> list[str]:
    chosen = [name.strip() for name in os.environ.get("PINHOLE_BENCH_ENGINES", f"{MOTO},{FAST}").split(",")]
    unknown = set(chosen) - {MOTO, FAST}
    if unknown or not chosen:
        raise ValueError(f"PINHOLE_BENCH_ENGINES: {sorted(unknown)} are not engines ({MOTO}, {FAST})")
    return chosen


def _at(figures: Any, path: tuple[Any, ...]) -> float:
    for step in path:
        figures = figures[step]
    return float(figures)


def side_by_side(figures: dict[str, Any], measures: dict[str, tuple[Any, ...]], before: str = MOTO) -> dict[str, Any]:
    """For each measure (a path into one engine's figures): both values and `before`'s (moto's, by default) over
    the fast path's."""
    if before not in figures or FAST not in figures:
        return {}
    compared = {}
    for name, path in measures.items():
        old, new = _at(figures[before], path), _at(figures[FAST], path)
        compared[name] = {before: old, FAST: new, "speedup": round(old / new, 1) if new else None}
    return compared
