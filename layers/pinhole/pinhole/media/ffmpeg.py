"""Runs the ffmpeg binary that imageio-ffmpeg ships, under a deadline.

Every run is a subprocess with a fixed argv (no shell), no stdin, and a time limit: the smaller of its own limit
and what is left of the caller's `Deadline` (the transcode function's watchdog, set before Lambda's timeout). A run
past its limit is killed and the upload rejected `unprocessable`; a run the kernel kills (out of memory) likewise.
"""

import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pinhole.media.limits import MediaRejected, RejectionCode

TOO_SLOW = "The video could not be processed in time."
TOO_BIG = "The video needs more memory to process than Pinhole allows."
STDERR_TAIL_CHARS = 2000


def ffmpeg_executable() -> str:
    """The ffmpeg binary bundled with imageio-ffmpeg (imported here, so only video work pays for it)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass(frozen=True, slots=True)
class Deadline:
    """A point on the monotonic clock past which no ffmpeg run may go on (None: no deadline)."""

    at: float | None = None

    @classmethod
    def after(cls, seconds: float) -> "Deadline":
        return cls(time.monotonic() + seconds)

    def limit(self, own_limit_s: float) -> float:
        """How long a run may take now: its own limit, or less when the deadline is nearer."""
        if self.at is None:
            return own_limit_s
        return max(0.0, min(own_limit_s, self.at - time.monotonic()))


NO_DEADLINE = Deadline()


class FfmpegFailed(Exception):
    """ffmpeg exited with an error: `stderr` holds the end of what it said."""

    def __init__(self, returncode: int, stderr: str) -> None:
        super().__init__(f"ffmpeg exited with {returncode}: {stderr[-STDERR_TAIL_CHARS:]}")
        self.returncode = returncode
        self.stderr = stderr


def run(command: list[str], timeout_s: float, deadline: Deadline = NO_DEADLINE) -> subprocess.CompletedProcess[bytes]:
    """Runs `command` to its end; MediaRejected if it is cut short by the limit or killed by the kernel."""
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            command, capture_output=True, timeout=deadline.limit(timeout_s), check=False, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as error:
        raise MediaRejected(RejectionCode.UNPROCESSABLE, TOO_SLOW) from error
    _raise_if_killed(result.returncode)
    return result


def run_checked(command: list[str], timeout_s: float, deadline: Deadline = NO_DEADLINE) -> None:
    """`run`, and FfmpegFailed when ffmpeg reports an error."""
    result = run(command, timeout_s, deadline)
    if result.returncode != 0:
        raise FfmpegFailed(result.returncode, result.stderr.decode("utf-8", "replace"))


@contextmanager
def output_lines(command: list[str], timeout_s: float, deadline: Deadline = NO_DEADLINE) -> Iterator[Iterator[str]]:
    """What `command` writes to stdout, line by line as it comes (a report of millions of lines is never held
    whole); the process is killed when the block ends early or the limit passes."""
    limit = deadline.limit(timeout_s)
    with (
        tempfile.TemporaryFile() as stderr,
        subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            command, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, text=True, errors="replace"
        ) as process,
    ):
        assert process.stdout is not None
        timer = _Watchdog(process, limit)
        try:
            yield iter(process.stdout)
        finally:
            process.kill()
            process.wait()
            timer.cancel()
        if timer.fired:
            raise MediaRejected(RejectionCode.UNPROCESSABLE, TOO_SLOW)


class _Watchdog:
    """Kills a process when its time is up (a blocked read of its output would otherwise wait for ever)."""

    def __init__(self, process: subprocess.Popen[str], limit_s: float) -> None:
        self.fired = False
        self._process = process
        self._timer = threading.Timer(limit_s, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        self._process.kill()

    def cancel(self) -> None:
        self._timer.cancel()


def _raise_if_killed(returncode: int) -> None:
    # Lambda's memory limit is a cgroup: past it the kernel kills the largest process in it, ffmpeg.
    if returncode == -signal.SIGKILL:
        raise MediaRejected(RejectionCode.UNPROCESSABLE, TOO_BIG)
