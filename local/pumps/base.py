"""A pump: a background thread that polls a source and stops promptly when asked."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("local.pumps")


class Pump(threading.Thread):
    interval_s = 0.2

    def __init__(self, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self._stopping = threading.Event()

    def poll_once(self) -> int:
        """Do one round of work; how many records/items were handled."""
        raise NotImplementedError

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                handled = self.poll_once()
            except Exception:
                if self._stopping.is_set():
                    return
                log.exception("%s: poll failed", self.name)
                handled = 0
            if not handled:
                self._stopping.wait(self.interval_s)

    def stop(self) -> None:
        self._stopping.set()

    def sleep(self, seconds: float) -> bool:
        """Wait, unless stopping; True if the pump should go on."""
        return not self._stopping.wait(seconds)
