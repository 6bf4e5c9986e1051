"""Hostile uploads through the real resize handler: every file of the corpus (tests/support/hostile_media.py) goes
from the uploads bucket through the upload-events queue to the handler, in batches of the template's BatchSize
where each batch also carries an ordinary upload, on moto.

Each batch is one invocation in a fresh process (tests/support/resize_worker.py), killed at the function's
Timeout from the synthesized template — a file that keeps resize busy longer fails its test, as it would fail on
Lambda — and its peak RSS is held against the function's MemorySize. A batch's peak bounds the peak of every file
in it; soak/hostile_media.py measures each file alone and records the figures.
"""

import pytest

from pinhole.media.limits import RejectionCode
from tests.support.hostile_media import CORPUS, READY, VALID, HostileFile, build
from tests.support.resize_pipeline import resize_wiring
from tests.support.resize_worker import BatchReport, run_batch

WIRING = resize_wiring()
REJECTION_CODES = {code.value for code in RejectionCode}


IN_MAKE_TEST = {"bomb", "oversized", "polyglot"}
"""The families `make test` sends: those that threaten the function's time and memory, or what is served.
The malformed and metadata files (all of them rejected or re-encoded in well under a second) are sent by
`make soak ARGS=hostile_media` with the rest of the corpus, each file alone, against the same outcomes."""


def batches() -> list[list[HostileFile]]:
    """The corpus's `IN_MAKE_TEST` families in batches of BatchSize: hostile files with one ordinary upload among
    them (second), the ordinary ones taken in turn from every accepted type."""
    hostile = [case for case in CORPUS.values() if case.family in IN_MAKE_TEST]
    per_batch = WIRING.batch_size - 1
    neighbours = list(VALID.values())
    grouped = []
    for index, start in enumerate(range(0, len(hostile), per_batch)):
        group = hostile[start : start + per_batch]
        grouped.append([group[0], neighbours[index % len(neighbours)], *group[1:]])
    return grouped


BATCHES = batches()


def run(batch: list[HostileFile]) -> BatchReport:
    files = [(case.name, case.content_type, build(case.name), case.payload) for case in batch]
    assert WIRING.transcode is not None
    report = run_batch(files, timeout_s=WIRING.timeout_s, transcode_timeout_s=WIRING.transcode.timeout_s)
    assert report.elapsed_s < WIRING.timeout_s, f"resize ran {report.elapsed_s} s"
    assert all(elapsed < WIRING.transcode.timeout_s for elapsed in report.transcode_elapsed_s), report
    return report


def test_the_corpus_covers_every_accepted_type_and_family() -> None:
    # Given the corpus / Then every accepted content type meets every kind of attack that applies to it
    from pinhole.media.limits import ACCEPTED_CONTENT_TYPES

    assert {case.content_type for case in CORPUS.values()} == ACCEPTED_CONTENT_TYPES
    for content_type in ACCEPTED_CONTENT_TYPES:
        families = {case.family for case in CORPUS.values() if case.content_type == content_type}
        assert {"malformed", "bomb"} <= families, content_type
    assert {case.family for case in CORPUS.values()} == {"malformed", "oversized", "polyglot", "bomb", "metadata"}
    assert all(case.expected in REJECTION_CODES | {READY} for case in CORPUS.values())


@pytest.mark.parametrize("batch", BATCHES, ids=["+".join(case.name for case in batch) for batch in BATCHES])
def test_hostile_files_end_with_their_outcome_while_the_rest_of_the_batch_publishes(batch: list[HostileFile]) -> None:
    # Given a batch of hostile uploads with an ordinary one among them, each in a pending post
    # When resize runs once on the batch, killed at the function's timeout (run_batch fails the test then)
    report = run(batch)

    # Then the invocation reported no failed record: nothing is retried, nothing goes to the dead-letter queue
    assert report.batch_item_failures == []
    assert (report.messages_left, report.dead_letters) == (0, 0)
    # And it stayed under the function's memory
    assert report.peak_rss_mb < WIRING.memory_mb, f"peak RSS {report.peak_rss_mb} MB ≥ {WIRING.memory_mb} MB"
    for case in batch:
        outcome = report.files[case.name]
        if case.expected == READY:
            # And a file that is a valid picture under its disguise is published, re-encoded without the disguise
            assert (outcome.status, outcome.post_status) == ("ready", "published"), outcome
            assert outcome.rendition_keys, outcome
            assert not outcome.payload_in_renditions, f"{case.name}: the hidden payload reached a rendition"
        else:
            # And every other one is rejected with its specific reason, its post failed, nothing published
            assert (outcome.status, outcome.reason_code) == ("rejected", case.expected), outcome
            assert outcome.post_status == "failed", outcome
            assert outcome.reason and outcome.reason[0].isupper() and outcome.reason.endswith("."), outcome
            assert outcome.rendition_keys == [], f"{case.name} left objects in the media bucket"
