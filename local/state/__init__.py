"""The local cloud's memory across restarts: a snapshot on clean shutdown, restored on start."""

from local.state.snapshot import Snapshot, SnapshotUnreadable, StateDir
from local.state.transfer import Restorer, RestoreReport, capture

__all__ = ["RestoreReport", "Restorer", "Snapshot", "SnapshotUnreadable", "StateDir", "capture"]
