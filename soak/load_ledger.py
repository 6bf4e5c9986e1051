"""What the load's clients know they did: every write whose outcome they saw, and every request's status and time.

A write is marked unknown before it is sent and settled when its answer arrives: a 2xx records the new state, a
4xx (429, 404...) the state before (the server refused, nothing changed), and a 5xx, a network error or a user
stopped mid-request leaves it unknown. The audit holds the server to what is known and allows either outcome for
what is not. Each locust process writes its own ledger file; accounts never span two processes, so ledgers merge by
union. Plain data only: the locustfile (under gevent) and the audit (not) both use it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# A toggle is a relation an actor switches on and off: likes a post, follows a user, saved a post.
TOGGLES = ("like", "follow", "save")
UNKNOWN = None


@dataclass
class RouteSamples:
    """Every request of one route: when it started (epoch s), how long it took (ms), what it answered (0: none)."""

    started: list[float] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


@dataclass
class Ledger:
    # toggles[kind][actor][target] = True / False / None (unknown)
    toggles: dict[str, dict[str, dict[str, bool | None]]] = field(
        default_factory=lambda: {kind: {} for kind in TOGGLES}
    )
    # comment_id -> {"post_id", "author", "state": "present" | "deleted" | "unknown"}
    comments: dict[str, dict[str, str]] = field(default_factory=dict)
    # post_id -> comments posted whose answer never came (their id is unknown)
    unanswered_comments: dict[str, int] = field(default_factory=dict)
    # message text (unique) -> {"from", "to", "state": "sent" | "unknown"}
    messages: dict[str, dict[str, str]] = field(default_factory=dict)
    routes: dict[str, RouteSamples] = field(default_factory=dict)
    task_errors: list[str] = field(default_factory=list)

    # --- toggles -------------------------------------------------------------------------------------------------

    def toggle_state(self, kind: str, actor: str, target: str, default: bool = False) -> bool | None:
        return self.toggles[kind].get(actor, {}).get(target, default)

    def begin_toggle(self, kind: str, actor: str, target: str, default: bool = False) -> bool | None:
        """Marks the relation unknown while a write is in flight; returns the state before."""
        before = self.toggle_state(kind, actor, target, default)
        self.toggles[kind].setdefault(actor, {})[target] = UNKNOWN
        return before

    def settle_toggle(self, kind: str, actor: str, target: str, status: int, on: bool, before: bool | None) -> None:
        if 200 <= status < 300:
            self.toggles[kind][actor][target] = on
        elif 400 <= status < 500:
            self.toggles[kind][actor][target] = before

    # --- comments and messages -----------------------------------------------------------------------------------

    def begin_comment(self, post_id: str) -> None:
        self.unanswered_comments[post_id] = self.unanswered_comments.get(post_id, 0) + 1

    def comment_posted(self, post_id: str, author: str, status: int, comment_id: str | None) -> None:
        if 200 <= status < 300 and comment_id:
            self.comments[comment_id] = {"post_id": post_id, "author": author, "state": "present"}
        answered = 400 <= status < 500 or (200 <= status < 300 and comment_id)
        if answered:
            self.unanswered_comments[post_id] -= 1

    def begin_comment_deletion(self, comment_id: str) -> None:
        self.comments[comment_id]["state"] = "unknown"

    def comment_deleted(self, comment_id: str, status: int) -> None:
        if 200 <= status < 300:
            self.comments[comment_id]["state"] = "deleted"
        elif 400 <= status < 500:
            self.comments[comment_id]["state"] = "present"

    def begin_message(self, text: str, sender: str, recipient: str) -> None:
        self.messages[text] = {"from": sender, "to": recipient, "state": "unknown"}

    def message_sent(self, text: str, status: int) -> None:
        if 200 <= status < 300:
            self.messages[text]["state"] = "sent"
        elif 400 <= status < 500:
            del self.messages[text]

    # --- requests ------------------------------------------------------------------------------------------------

    def record(self, route: str, started: float, ms: float, status: int) -> None:
        samples = self.routes.setdefault(route, RouteSamples())
        samples.started.append(round(started, 3))
        samples.ms.append(round(ms, 2))
        samples.statuses.append(status)

    # --- files ---------------------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "toggles": self.toggles,
            "comments": self.comments,
            "unanswered_comments": self.unanswered_comments,
            "messages": self.messages,
            "routes": {name: vars(samples) for name, samples in self.routes.items()},
            "task_errors": self.task_errors,
        }

    def write(self, path: Path) -> None:
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.to_json()))
        temporary.replace(path)

    @classmethod
    def merged(cls, documents: Iterable[dict[str, Any]]) -> Ledger:
        ledger = cls()
        for document in documents:
            for kind, actors in document["toggles"].items():
                ledger.toggles[kind].update(actors)
            ledger.comments.update(document["comments"])
            for post_id, count in document["unanswered_comments"].items():
                ledger.unanswered_comments[post_id] = ledger.unanswered_comments.get(post_id, 0) + count
            ledger.messages.update(document["messages"])
            for name, samples in document["routes"].items():
                into = ledger.routes.setdefault(name, RouteSamples())
                into.started += samples["started"]
                into.ms += samples["ms"]
                into.statuses += samples["statuses"]
            ledger.task_errors += document["task_errors"]
        return ledger

    @classmethod
    def read_all(cls, directory: Path) -> Ledger:
        return cls.merged(json.loads(path.read_text()) for path in sorted(directory.glob("ledger-*.json")))
