"""The ffmpeg runner's limits: a run past its time (or the watchdog's deadline) is killed and the upload rejected; a
run the kernel kills for memory is rejected too. A shell script stands in for ffmpeg."""

import time
from pathlib import Path

import pytest

from pinhole.media.ffmpeg import TOO_BIG, TOO_SLOW, Deadline, output_lines, run
from pinhole.media.limits import MediaRejected, RejectionCode


def script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "fake-ffmpeg"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


def test_run_killed_by_the_kernel_is_rejected_as_needing_too_much_memory(tmp_path: Path) -> None:
    # Given an "ffmpeg" that the kernel kills (SIGKILL, as the cgroup's OOM killer does past Lambda's memory)
    killed = script(tmp_path, "kill -9 $$")

    # When it is run / Then the upload is rejected unprocessable, saying why
    with pytest.raises(MediaRejected) as caught:
        run([killed], timeout_s=10)
    assert (caught.value.code, caught.value.reason) == (RejectionCode.UNPROCESSABLE, TOO_BIG)


def test_deadline_nearer_than_a_runs_own_limit_cuts_it_short(tmp_path: Path) -> None:
    # Given a run allowed 30 s of its own, and a watchdog deadline half a second away
    slow = script(tmp_path, "exec sleep 30")
    started = time.monotonic()

    # When it runs / Then it is stopped at the deadline, not at its own limit, and the upload rejected
    with pytest.raises(MediaRejected) as caught:
        run([slow], timeout_s=30, deadline=Deadline.after(0.5))
    assert (caught.value.code, caught.value.reason) == (RejectionCode.UNPROCESSABLE, TOO_SLOW)
    assert time.monotonic() - started < 10


def test_endless_output_is_read_line_by_line_and_stopped_at_the_limit(tmp_path: Path) -> None:
    # Given an "ffmpeg" that writes lines for ever (a packet list of millions of packets)
    endless = script(tmp_path, "exec yes 0,0,0,1,1,0x0")
    seen = 0

    # When its lines are read with a one-second limit / Then reading ends, and the upload is rejected
    with pytest.raises(MediaRejected) as caught, output_lines([endless], timeout_s=1.0) as lines:
        for _ in lines:
            seen += 1
    assert caught.value.reason == TOO_SLOW
    assert seen > 0
