"""Which deployment a synth is for, from the `stage` context (cdk.json, or `cdk synth -c stage=dev`),
and the rules that only production enforces.

Production fails closed: every stage not named in NON_PRODUCTION_STAGES is production, so a missing
or misspelt stage gets the strict rules, never the lax ones."""

from collections.abc import Sequence
from typing import Final

NON_PRODUCTION_STAGES: Final = frozenset({"dev", "test", "local"})
ANY_ORIGIN: Final = "*"


class UnsafeConfiguration(ValueError):
    """A context value this stage must not deploy with; synth stops before writing a template."""


def is_production(stage: str) -> bool:
    return stage not in NON_PRODUCTION_STAGES


def checked_cors_origins(origins: Sequence[str], *, stage: str) -> list[str]:
    """The browser origins the HTTP API and the uploads bucket allow: named origins, and `*` only
    outside production (a production API answering any origin would let any web page use a
    visitor's session)."""
    if not origins:
        raise UnsafeConfiguration("context cors_origins must name at least one origin")
    if ANY_ORIGIN in origins and is_production(stage):
        raise UnsafeConfiguration(
            f"context cors_origins must name origins, never {ANY_ORIGIN!r}, in production stage {stage!r} "
            f"(non-production stages: {', '.join(sorted(NON_PRODUCTION_STAGES))})"
        )
    return list(origins)
