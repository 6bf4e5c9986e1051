"""Who is calling: the role session of the function whose invocation (or event source mapping) runs.

On Lambda the whole process holds the function's role. Locally many functions share one process, so the
identity is a context variable set around each invocation, and threads a handler starts (through
ThreadPoolExecutor.submit or threading.Thread) inherit it. A call made with no identity is the local cloud
itself or a test setting up its world: it is not checked.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import functools
import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local.iam.authorizer import Authorizer


def _derived(prefix: str, seed: str, length: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    digest = hashlib.sha256(seed.encode()).digest()
    return prefix + "".join(alphabet[byte % 32] for byte in digest)[: length - len(prefix)]


@dataclass(frozen=True)
class Identity:
    """A function's role session, as AWS names it in requests and error messages."""

    function_name: str
    role_name: str
    account: str
    authorizer: Authorizer = field(compare=False, repr=False)

    @property
    def role_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:role/{self.role_name}"

    @property
    def session_arn(self) -> str:
        return f"arn:aws:sts::{self.account}:assumed-role/{self.role_name}/{self.function_name}"

    @property
    def role_id(self) -> str:
        return _derived("AROA", self.role_arn, 21)

    @property
    def access_key_id(self) -> str:
        """The function's own (temporary, ASIA…) access key: a pre-signed request names its signer by it."""
        return _derived("ASIA", self.role_arn, 20)

    @property
    def secret_access_key(self) -> str:
        return hashlib.sha256(f"local-secret:{self.role_arn}".encode()).hexdigest()[:40]


_current: contextvars.ContextVar[Identity | None] = contextvars.ContextVar("pinhole_local_iam_identity", default=None)


def current_identity() -> Identity | None:
    return _current.get()


@contextmanager
def acting_as(identity: Identity | None) -> Iterator[None]:
    """Calls in this block (and threads it starts) are made as `identity` (None: unchecked)."""
    token = _current.set(identity)
    try:
        yield
    finally:
        _current.reset(token)


def mapping_role(function: Any) -> Identity | None:
    """The role an event source mapping polls with: its function's (None for a function without one, such
    as a test double: its mapping's calls are not checked)."""
    identity = getattr(function, "identity", None)
    return identity if isinstance(identity, Identity) else None


def run_as(identity: Identity | None, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        with acting_as(identity):
            return function(*args, **kwargs)

    return run


_installed = False
_install_lock = threading.Lock()


def inherit_identity_in_threads() -> None:
    """Tasks submitted to any ThreadPoolExecutor run as whoever submitted them (a worker thread serves
    several submitters, so each task carries its own identity, None included); a Thread runs as whoever
    started it. Installed once per process."""
    global _installed
    with _install_lock:
        if _installed:
            return
        original_submit = concurrent.futures.ThreadPoolExecutor.submit
        original_start = threading.Thread.start

        def submit(
            self: concurrent.futures.ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
        ) -> concurrent.futures.Future[Any]:
            return original_submit(self, run_as(_current.get(), fn), *args, **kwargs)

        def start(self: threading.Thread) -> None:
            identity = _current.get()
            if identity is not None:
                self.run = run_as(identity, self.run)  # type: ignore[method-assign]
            original_start(self)

        concurrent.futures.ThreadPoolExecutor.submit = submit  # type: ignore[method-assign,assignment]
        threading.Thread.start = start  # type: ignore[method-assign]
        _installed = True
