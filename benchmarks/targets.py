"""Every figure `make bench` reports against a target, with where the target comes from.

A target is read from a benchmark's JSON result by a path of keys; `None` in `bound` marks a figure
shown for context only. Sources: ARCHITECTURE.md's performance budgets, issue 19 (the local cloud at
speed) and the issues that set the feed, resize and search figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from local.dynamodb_engine import FAST


@dataclass(frozen=True)
class Target:
    benchmark: str
    path: tuple[str | int, ...]
    label: str
    unit: str
    bound: float | None = None  # None: shown, no target
    at_most: bool = True  # False: the figure must be at least `bound`
    source: str = "ARCHITECTURE.md"

    def value(self, results: dict[str, Any]) -> float | None:
        """The figure at `path`; in a result measured on both DynamoDBs (benchmarks/engines.py), the fast one's."""
        found: Any = results.get(self.benchmark)
        if isinstance(found, dict) and FAST in found and self.path and self.path[0] not in found:
            found = found[FAST]
        for step in self.path:
            in_dict = isinstance(found, dict) and step in found
            in_list = isinstance(found, list) and isinstance(step, int) and step < len(found)
            if not (in_dict or in_list):
                return None
            found = found[step]
        return float(found) if isinstance(found, int | float) and not isinstance(found, bool) else None

    def met(self, value: float | None) -> bool | None:
        if value is None or self.bound is None:
            return None
        return value <= self.bound if self.at_most else value >= self.bound

    def target_text(self) -> str:
        if self.bound is None:
            return ""
        return f"{'≤' if self.at_most else '≥'} {self.bound:g}"


ARCH = "ARCHITECTURE.md"
I19 = "issue 19"
FIRST_PAGES = (("ranked_first_cold", "ranked page 1"), ("chronological_first", "chronological page 1"))  # feed_ranked

TARGETS: list[Target] = [
    *(
        Target("cold_start", ("ratio_to_boto3_baseline", context), f"import {context} / boto3+client", "×", 1.5)
        for context in ("auth", "users", "meta", "upload")
    ),
    Target("gateway_overhead", ("overhead_p50_ms",), "gateway overhead, GET /health p50", "ms"),
    Target("gateway_overhead", ("startup_s",), "local cloud startup (in process)", "s"),
    Target("resize", ("ratios", "ours_jpeg_vs_draft_decode"), "3 JPEG renditions / draft decode", "×", 3.5, True, ARCH),
    Target("resize", ("ratios", "naive_vs_ours_jpeg"), "naive Pillow / ours", "×", 3.0, False, "issue 5"),
    Target("resize", ("ratios", "ours_jpeg_vs_pyvips"), "ours / pyvips", "×", 1.25, True, "issue 5"),
    Target("resize", ("ratios", "ours_webp_vs_ours_jpeg"), "WebP / JPEG renditions", "×", 1.5, True, "issue 5"),
    Target("resize", ("ratios", "peak_memory_vs_decoded_frame"), "peak memory / decoded frame", "×", 1.0, True, ARCH),
    Target("feed", ("feed_read", "hybrid_over_http", "p50_ms"), "feed page (50) over HTTP p50", "ms", 100, True, I19),
    Target("feed", ("feed_read", "hybrid_in_process", "p50_ms"), "feed page (50) in process p50", "ms"),
    Target("feed", ("feed_read", "naive_over_hybrid_p50"), "naive fan-out-on-read / hybrid", "×", 5, False, "issue 3"),
    # Rounds are counted where each call is held 250 ms (feed_ranked), so that calls issued together overlap;
    # feed.py's chains of ~1 ms calls on 2 cores also count calls the thread pool happened to run one by one.
    Target("feed", ("feed_read", "sequential_round_trips", "max"), "chains of calls, page 1 (not rounds)", ""),
    Target("feed_ranked", ("sequential_rounds", "ranked_first_cold", "max"), "DynamoDB rounds, ranked page 1", "", 3),
    Target("feed_ranked", ("sequential_rounds", "ranked_later", "max"), "DynamoDB rounds, ranked later page", "", 2),
    *(
        Target("feed_ranked", (ratio,), f"ranked {label} / chronological, local p50", "×", 1.3, True, "issue 13")
        for ratio, label in (
            ("ranked_over_chronological_first_page_p50", "page 1"),
            ("ranked_refresh_over_chronological_first_page_p50", "refresh"),
        )
    ),
    *(
        Target("feed_ranked", ("latency_model_p99_ms", page), f"modelled AWS p99, {label}", "ms", 200, True, "issue 13")
        for page, label in FIRST_PAGES
    ),
    Target("feed_ranked", ("ranking_500_candidates_cpu", "p99_ms"), "ranking 500 candidates, CPU p99", "ms", 10),
    Target(
        "feed_ranked", ("request_units_per_page", "ranked_first_cold", "read_units"), "read units, ranked page 1", "RRU"
    ),
    Target("feed_ranked", ("request_units_per_page", "seen_one_page", "write_units"), "write units, page seen", "WRU"),
    Target("feed", ("fan_out", 1, "seconds_to_last_feed"), "fan-out to 10,000 followers", "s", 5, True, I19),
    Target("feed_page", ("fast", "ranked", "p50_ms"), "feed page over HTTP p50, fast DynamoDB", "ms", 100, True, I19),
    Target("feed_page", ("moto", "ranked", "p50_ms"), "feed page over HTTP p50, moto's engine", "ms"),
    *(
        Target("feed_page", (comparison, f"{order}_p50_ms", "speedup"), label, "×", 10, False, I19)
        for comparison, order, label in (
            ("moto_over_fast", "ranked", "feed page over HTTP, moto / fast"),
            ("moto_over_fast", "chronological", "chronological page, moto / fast"),
            ("as_found_over_fast", "ranked", "feed page over HTTP, as issue 19 found it / now"),
            ("as_found_over_fast", "chronological", "chronological page, as found / now"),
        )
    ),
    Target("messaging", ("throughput_messages_per_s",), "DMs sustained, 50 clients", "msg/s", 100, False, I19),
    Target("messaging", ("latency_p99_ms",), "DM latency p99, 25 pairs", "ms", 250, True, I19),
    Target("messaging", ("unloaded_latency_p50_ms",), "DM latency p50, one pair", "ms"),
    Target("messaging", ("throughput_process_cpu_ms_per_message",), "DM CPU per message, sustained", "ms"),
    Target("search", ("over_http", "all", "p99_ms"), "people search p99, 100,000 users", "ms", 100, True, I19),
    Target("search", ("indexed", "seconds"), "seeding the search index", "s", 120, True, I19),
    Target("local_state", ("restore", "start_to_ready_s"), "restart with the saved world, to ready", "s", 3, True, I19),
    Target("local_state", ("snapshot", "write_s"), "saving the world on Ctrl-C", "s"),
]


def summary_lines(results: dict[str, Any], failed: dict[str, str]) -> list[str]:
    """One line per figure: benchmark, what, measured, target, met (and one per benchmark that failed)."""
    lines = [f"{'benchmark':<17}{'figure':<42}{'measured':>12}  {'target':<10}{'':<5}source"]
    for target in TARGETS:
        if target.benchmark not in results and target.benchmark not in failed:
            continue
        value = target.value(results)
        shown = "failed" if target.benchmark in failed else "—" if value is None else f"{value:,.2f} {target.unit}"
        met = target.met(value)
        verdict = "" if met is None else "yes" if met else "NO"
        figure = f"{target.benchmark:<17}{target.label:<42}{shown:>12}"
        lines.append(f"{figure}  {target.target_text():<10}{verdict:<5}{target.source if target.bound else ''}")
    return lines
