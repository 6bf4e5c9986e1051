"""Hostile media, one file per fresh process: the outcome, the handler's time and the peak memory of resize on
every corpus file (tests/support/hostile_media.py) and on the ordinary uploads, against the resize function's
MemorySize and Timeout from the synthesized template.

Each file is uploaded into a pending post on moto and resize runs once on its S3 event (tests/support/
resize_worker.py), killed at the function's Timeout. `peak_rss_mb` is the worker's peak RSS (Python, Pillow,
boto3 and the in-process moto account holding the upload: more than the Lambda would hold) plus its largest
child's (ffmpeg; that figure includes the forked Python image before exec, so for videos it overstates);
`baseline_rss_mb` is the worker's RSS just before the invocation. `elapsed_s` is the invocation alone.
"""

import os
import platform
import time
from collections import defaultdict
from typing import Any

import tests.conftest  # noqa: F401 - test settings (fake credentials, names) before the domain package is imported
from tests.support.hostile_media import EVERY_FILE, build
from tests.support.resize_pipeline import resize_wiring
from tests.support.resize_worker import InvocationTimedOut, run_batch


def _measure(name: str, timeout_s: float, transcode_timeout_s: float) -> dict[str, Any]:
    case = EVERY_FILE[name]
    data = build(name)
    figures: dict[str, Any] = {
        "content_type": case.content_type,
        "family": case.family,
        "expected": case.expected,
        "size_bytes": len(data),
    }
    try:
        files = [(name, case.content_type, data, case.payload)]
        report = run_batch(files, timeout_s=timeout_s, transcode_timeout_s=transcode_timeout_s)
    except InvocationTimedOut:
        return {**figures, "outcome": "timed_out", "matches": False}
    outcome = report.files[name]
    got = "ready" if outcome.status == "ready" else outcome.reason_code or outcome.status
    return {
        **figures,
        "outcome": got,
        "matches": got == case.expected and not report.batch_item_failures and not outcome.payload_in_renditions,
        "elapsed_s": report.elapsed_s,
        "transcode_elapsed_s": report.transcode_elapsed_s,
        "baseline_rss_mb": report.baseline_rss_mb,
        "peak_rss_mb": report.peak_rss_mb,
        "peak_rss_self_mb": report.peak_rss_self_mb,
        "peak_rss_children_mb": report.peak_rss_children_mb,
        "peak_above_baseline_mb": round(report.peak_rss_self_mb - report.baseline_rss_mb, 1),
    }


def _summary(files: dict[str, dict[str, Any]], group: str) -> dict[str, dict[str, Any]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for figures in files.values():
        grouped[figures[group]].append(figures)
    summary = {}
    for key, members in sorted(grouped.items()):
        measured = [figures for figures in members if "peak_rss_mb" in figures]
        peak = max(measured, key=lambda figures: figures["peak_rss_mb"], default=None)
        slowest = max(measured, key=lambda figures: figures["elapsed_s"], default=None)
        summary[key] = {
            "files": len(members),
            "matching_expected": sum(figures["matches"] for figures in members),
            "max_peak_rss_mb": peak["peak_rss_mb"] if peak else None,
            "max_peak_above_baseline_mb": max((f["peak_above_baseline_mb"] for f in measured), default=None),
            "max_elapsed_s": slowest["elapsed_s"] if slowest else None,
        }
    return summary


def run() -> dict[str, Any]:
    wiring = resize_wiring()
    load_before = os.getloadavg()
    started = time.perf_counter()
    transcode_timeout_s = wiring.transcode.timeout_s if wiring.transcode else 0.0
    files = {name: _measure(name, wiring.timeout_s, transcode_timeout_s) for name in EVERY_FILE}
    measured = {name: figures for name, figures in files.items() if "peak_rss_mb" in figures}
    worst = max(measured, key=lambda name: measured[name]["peak_rss_mb"])
    slowest = max(measured, key=lambda name: measured[name]["elapsed_s"])
    return {
        "conditions": {
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
            "load_average_1m_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
            "wall_s": round(time.perf_counter() - started, 1),
        },
        "limits": {"memory_mb": wiring.memory_mb, "timeout_s": wiring.timeout_s},
        "files_total": len(files),
        "files_matching_expected": sum(figures["matches"] for figures in files.values()),
        "timed_out": sorted(name for name, figures in files.items() if figures["outcome"] == "timed_out"),
        "over_memory": sorted(name for name, f in measured.items() if f["peak_rss_mb"] >= wiring.memory_mb),
        "max_peak_rss": {"file": worst, "mb": measured[worst]["peak_rss_mb"]},
        "max_elapsed": {"file": slowest, "s": measured[slowest]["elapsed_s"]},
        "by_family": _summary(files, "family"),
        "by_content_type": _summary(files, "content_type"),
        "files": files,
    }
