"""`make bench`'s closing summary: each figure read from its benchmark's JSON and set against its target."""

from benchmarks.__main__ import main
from benchmarks.targets import TARGETS, summary_lines


def line_of(lines: list[str], label: str) -> str:
    return next(line for line in lines if label in line)


def test_each_figure_is_set_against_its_target_with_a_verdict() -> None:
    # Given a feed result that meets the HTTP page target and misses the fan-out one
    results = {
        "feed": {
            "feed_read": {"hybrid_over_http": {"p50_ms": 80.0}, "naive_over_hybrid_p50": 4.0},
            "fan_out": [{"seconds_to_last_feed": 2.0}, {"seconds_to_last_feed": 51.1}],
        }
    }
    # When the summary is drawn
    lines = summary_lines(results, failed={})
    # Then each figure shows its value, its target and whether it is met
    page = line_of(lines, "feed page (50) over HTTP p50")
    assert "80.00 ms" in page and "≤ 100" in page and "yes" in page
    assert "NO" in line_of(lines, "fan-out to 10,000 followers")
    assert "51.10 s" in line_of(lines, "fan-out to 10,000 followers")
    assert "NO" in line_of(lines, "naive fan-out-on-read / hybrid")  # at least 5×
    # And figures of benchmarks that did not run are left out, missing figures are a dash
    assert not any("messaging" in line for line in lines[1:])
    assert "—" in line_of(lines, "chains of calls, page 1")


def test_a_result_measured_on_both_dynamodbs_is_read_on_the_fast_one() -> None:
    # Given feed and search results of both engines side by side, as their run() returns them
    results = {
        "feed": {
            "moto": {"fan_out": [{}, {"seconds_to_last_feed": 52.1}]},
            "fast": {"fan_out": [{}, {"seconds_to_last_feed": 4.6}]},
            "fast_over_moto": {},
        },
        "search": {"fast": {"over_http": {"all": {"p99_ms": 134.4}}, "indexed": {"seconds": 364.1}}},
    }
    # When the summary is drawn
    lines = summary_lines(results, failed={})
    # Then the figures are the fast DynamoDB's
    assert "4.60 s" in line_of(lines, "fan-out to 10,000 followers")
    assert "134.40 ms" in line_of(lines, "people search p99")
    assert "364.10 s" in line_of(lines, "seeding the search index")


def test_a_failed_benchmark_is_named_failed_in_every_line_of_it() -> None:
    lines = summary_lines({}, failed={"messaging": "exit code 1"})
    messaging = [line for line in lines if line.startswith("messaging")]
    assert len(messaging) == sum(target.benchmark == "messaging" for target in TARGETS) > 0
    assert all("failed" in line for line in messaging)


def test_every_target_names_a_known_benchmark_and_fits_one_screen() -> None:
    from benchmarks.__main__ import BENCHMARKS

    assert {target.benchmark for target in TARGETS} <= set(BENCHMARKS)
    assert len(TARGETS) + 1 <= 40


def test_an_unknown_benchmark_name_is_refused_before_anything_runs(capsys) -> None:
    assert main(["fed"]) == 2
    assert "unknown benchmark(s): fed" in capsys.readouterr().err
