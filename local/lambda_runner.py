"""Runs the template's Lambda handlers in-process, as the Lambda runtime would call them.

Handlers are invoked in a thread pool: a handler that calls back into the gateway (or another
local endpoint) must not block the event loop that serves that call.

Like Lambda, an execution environment serves one invocation at a time: concurrent invocations of
a function get environments of their own (the handler module imported once more, a cold start).
Handler modules hold per-request state at module level (Powertools' resolver keeps the current
event), so sharing one module between concurrent requests would mix up their callers.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import importlib
import importlib.util
import json
import logging
import os
import sys
import threading
import time
import types
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.endpoint

from local.iam.identity import Identity, acting_as
from local.resolver_isolation import give_each_resolver_its_own_event
from local.template import CloudAssembly, Resource, TemplateError

log = logging.getLogger("local.lambda")
DEFAULT_TIMEOUT_S = 3
DEFAULT_MEMORY_MB = 128

_environ_lock = threading.RLock()
"""Held while a function's variables are in os.environ (its import), and while botocore reads the environment."""


def _read_environment_whole(read: Callable[[str], Any]) -> Callable[[str], Any]:
    """botocore's proxy lookup, made under the environment's lock. It iterates os.environ when a client is made, and
    a function being imported on another thread meanwhile removes its variables after (function_environment): a
    KeyError from the middle of the iteration, seen as a 500 of a like while another environment of the function
    started. Re-entrant: an import that makes a client holds the lock already."""

    def read_under_lock(url: str) -> Any:
        with _environ_lock:
            return read(url)

    return read_under_lock


botocore.endpoint.get_environ_proxies = _read_environment_whole(botocore.endpoint.get_environ_proxies)


class HandlerTimeout(Exception):
    """The handler ran longer than the function's Timeout."""


SYNC = "RequestResponse"
ASYNC = "Event"
# Lambda's payload quotas, in the bytes its own errors name: "Request must be smaller than 6291456 bytes for the
# InvokeFunction operation", "Response payload size exceeded maximum allowed payload size (6291556 bytes)";
# asynchronous invocations take 1 MB (the Invoke API reference; 256 KB until 2025).
REQUEST_LIMIT_BYTES = {SYNC: 6 * 1024 * 1024, ASYNC: 1024 * 1024}
RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024 + 100


class RequestTooLarge(Exception):
    """Lambda's RequestEntityTooLargeException: the invocation is refused and the function does not run."""


class ResponseTooLarge(Exception):
    """Lambda's Function.ResponseSizeTooLarge: the function ran, its answer cannot be returned."""


def request_bytes(event: Any) -> int:
    """The size of the Invoke request's payload: the event as compact UTF-8 JSON, as an AWS service sends it."""
    return len(json.dumps(event, separators=(",", ":"), ensure_ascii=False, default=str).encode())


def response_bytes(result: Any) -> int:
    """The size of the answer as the Python runtime serializes it (json.dumps with its default separators)."""
    return len(json.dumps(result, default=str).encode())


def check_request(function_name: str, event: Any, invocation_type: str) -> None:
    size, limit = request_bytes(event), REQUEST_LIMIT_BYTES[invocation_type]
    if size > limit:
        raise RequestTooLarge(
            f"{function_name}: {size} byte payload is too large for the {invocation_type} invocation type "
            f"(limit {limit} bytes)"
        )


def check_response(function_name: str, result: Any) -> Any:
    if (size := response_bytes(result)) > RESPONSE_LIMIT_BYTES:
        raise ResponseTooLarge(
            f"{function_name}: Response payload size ({size} bytes) exceeded maximum allowed payload size "
            f"({RESPONSE_LIMIT_BYTES} bytes)."
        )
    return result


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    timeout_s: float
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    identity: Any = None
    client_context: Any = None
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class LocalFunction:
    resource: Resource
    name: str
    arn: str
    asset_dir: Path
    handler_path: str  # "meta.handler.handler"
    environment: dict[str, str]
    timeout_s: float
    memory_mb: int
    module_file: Path
    # The role session its code runs as (local IAM enforcement); None: its calls are not checked.
    identity: Identity | None = None
    _idle: list[Callable[[Any, Any], Any]] = field(default_factory=list)
    _environments: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def logical_id(self) -> str:
        return self.resource.logical_id

    @property
    def environments(self) -> int:
        """How many execution environments (imported copies of the handler module) exist."""
        return self._environments

    def idle_handlers(self) -> list[Callable[[Any, Any], Any]]:
        """The handlers of every environment not serving an invocation right now."""
        with self._lock:
            return list(self._idle)

    def handler(self) -> Callable[[Any, Any], Any]:
        """The handler of the first environment, created at startup so a broken module fails fast."""
        with self.execution_environment() as handler:
            return handler

    @contextmanager
    def execution_environment(self) -> Iterator[Callable[[Any, Any], Any]]:
        """An environment to itself for one invocation: an idle one, or a new one (a cold start)."""
        with self._lock:
            handler = self._idle.pop() if self._idle else None
            if handler is None:
                self._environments += 1
                instance = self._environments
        if handler is None:
            handler = _load_handler(self, instance)
        try:
            yield handler
        finally:
            with self._lock:
                self._idle.append(handler)

    def new_context(self) -> LambdaContext:
        return LambdaContext(
            function_name=self.name,
            memory_limit_in_mb=self.memory_mb,
            invoked_function_arn=self.arn,
            timeout_s=self.timeout_s,
        )


def asset_dir_of(resource: Resource) -> Path:
    asset_path = resource.metadata.get("aws:asset:path")
    if not asset_path:
        raise TemplateError(f"{resource} has no aws:asset:path metadata (inline code is not supported locally)")
    path = Path(asset_path)
    return path if path.is_absolute() else resource.stack.directory / path


def module_file_of(asset_dir: Path, handler_path: str) -> Path:
    module_path, _, _ = handler_path.rpartition(".")
    return asset_dir.joinpath(*module_path.split(".")).with_suffix(".py")


def is_app_function(resource: Resource) -> bool:
    """Python functions with a staged asset; CDK's own providers (inline or Node.js code, or the
    `Custom::CDK...` singletons such as BucketDeployment's) are not run locally."""
    props = resource.properties
    runtime = str(props.get("Runtime", "python"))
    path = str(resource.metadata.get("aws:cdk:path", ""))
    cdk_provider = "/Custom::CDK" in path
    return (
        runtime.startswith("python")
        and "ZipFile" not in props.get("Code", {})
        and "Handler" in props
        and not cdk_provider
    )


def functions_from(
    assembly: CloudAssembly, localize: Callable[[str], str] = lambda value: value
) -> list[LocalFunction]:
    functions = []
    for resource in assembly.resources("AWS::Lambda::Function"):
        if not is_app_function(resource):
            continue
        props = resource.properties
        physical = assembly.physical_of(resource)
        variables = assembly.resolve(resource.stack, props.get("Environment", {}).get("Variables", {}))
        asset_dir = asset_dir_of(resource)
        functions.append(
            LocalFunction(
                resource=resource,
                name=physical.ref,
                arn=physical.attributes["Arn"],
                asset_dir=asset_dir,
                handler_path=props["Handler"],
                environment={key: localize(str(value)) for key, value in variables.items()},
                timeout_s=float(props.get("Timeout", DEFAULT_TIMEOUT_S)),
                memory_mb=int(props.get("MemorySize", DEFAULT_MEMORY_MB)),
                module_file=module_file_of(asset_dir, props["Handler"]),
            )
        )
    return functions


@contextmanager
def function_environment(function: LocalFunction) -> Iterator[None]:
    """The function's variables (plus the runtime's own) in os.environ, restored afterwards."""
    runtime_variables = {
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "_HANDLER": function.handler_path,
    }
    overlay = {**runtime_variables, **function.environment}
    with _environ_lock:
        saved = {key: os.environ.get(key) for key in overlay}
        os.environ.update(overlay)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _load_handler(function: LocalFunction, instance: int = 1) -> Callable[[Any, Any], Any]:
    """Import the handler module from its staged asset, under a name unique to this function and
    execution environment.

    The asset directory becomes a synthetic package, so modules of two functions (or two
    environments of one) never collide in sys.modules and relative imports inside an asset keep working.
    """
    if not function.module_file.is_file():
        raise TemplateError(f"{function.logical_id}: handler module {function.module_file} does not exist")
    package = f"_lambda_{function.logical_id}" if instance == 1 else f"_lambda_{function.logical_id}_{instance}"
    if package not in sys.modules:
        module = types.ModuleType(package)
        module.__path__ = [str(function.asset_dir)]
        sys.modules[package] = module
    module_path, _, attribute = function.handler_path.rpartition(".")
    with function_environment(function):
        module = importlib.import_module(f"{package}.{module_path}")
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise TemplateError(f"{function.logical_id}: {function.handler_path} is not a callable")
    return handler


class ExecutionSlots:
    """A semaphore that serves its waiters first come, first served: a freed slot is handed to the longest
    waiting invocation, never taken by one that arrives as it is freed.

    threading.Semaphore lets a newcomer take a slot before the waiter it woke, and that waiter then queues again
    at the back: with 25 DM conversations waiting on two slots, a few sends waited 3 times as long as the median.
    Messaging benchmark, 25 pairs, two runs each way: p99 575-579 ms with threading.Semaphore, 258-266 ms with
    these slots (p50 199 -> 212-216 ms: every send now waits its turn, none waits for many)."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._waiting: collections.deque[threading.Lock] = collections.deque()
        self._lock = threading.Lock()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def acquire(self, blocking: bool = True) -> bool:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return True
            if not blocking:
                return False
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        turn.acquire()  # released by the release() that hands this waiter its slot
        return True

    def release(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().release()  # the slot passes on: it is never free in between
            else:
                self._free += 1


class _Start:
    """When an invocation's handler began, and its claim on one of the runner's execution slots.

    Lambda's timeout counts from the handler's start, and only the function's own time is in it: not the wait
    for a slot, nor the execution environment's cold start (Lambda's init phase has a limit of its own). On
    Lambda every environment has its own CPU; here every invocation shares one process and its cores, so the
    runner lets only as many handlers execute at once as there are cores and queues the rest before their
    start. Without that, under load every running handler also waited for all the others (one GIL, a few
    cores), and API handlers timed out (504s in the load soak) for time that was never theirs."""

    def __init__(self, slots: ExecutionSlots) -> None:
        self._at: float | None = None
        self._slots = slots
        self._held = False
        self._lock = threading.Lock()

    def claim_slot(self) -> None:
        self._slots.acquire()
        with self._lock:
            self._held = True

    def release_slot(self) -> None:
        """Once: when the handler returns, or when it is given up on (a timed-out handler runs on, uncounted)."""
        with self._lock:
            held, self._held = self._held, False
        if held:
            self._slots.release()

    def now(self) -> None:
        self._at = time.monotonic()

    def remaining(self, timeout_s: float) -> float:
        return timeout_s if self._at is None else max(0.0, self._at + timeout_s - time.monotonic())

    def expired(self, timeout_s: float) -> bool:
        return self._at is not None and time.monotonic() - self._at >= timeout_s


class LambdaRunner:
    """Invokes functions by logical id or ARN, off the event loop, with their Timeout enforced."""

    def __init__(
        self, functions: list[LocalFunction], max_workers: int = 32, concurrent_executions: int | None = None
    ) -> None:
        """`concurrent_executions`: how many handlers run at once (default: one per core); the others wait for
        a slot before their start, which their timeout does not count (_Start)."""
        # Concurrent invocations share this process, which Powertools' resolvers do not expect.
        give_each_resolver_its_own_event()
        self.functions = {function.logical_id: function for function in functions}
        self._by_arn = {function.arn: function for function in functions}
        self._by_name = {function.name: function for function in functions}
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="lambda")
        self.concurrent_executions = concurrent_executions or max(2, os.cpu_count() or 2)
        self._slots = ExecutionSlots(self.concurrent_executions)

    def get(self, logical_id_or_arn: str) -> LocalFunction:
        function = (
            self.functions.get(logical_id_or_arn)
            or self._by_arn.get(logical_id_or_arn)
            or self._by_name.get(logical_id_or_arn)
        )
        if function is None:
            raise KeyError(logical_id_or_arn)
        return function

    def load_all(self, required: set[str]) -> None:
        """Import every handler now, so a broken wired handler fails at startup, not on first request."""
        for function in self.functions.values():
            try:
                function.handler()
            except Exception:
                if function.logical_id in required:
                    raise
                log.warning(
                    "%s is not wired to any route or event source and does not import; skipped",
                    function.logical_id,
                    exc_info=True,
                )

    def _call(self, function: LocalFunction, event: Any, started: _Start) -> Any:
        started.claim_slot()
        try:
            with acting_as(function.identity), function.execution_environment() as handler:
                started.now()
                return handler(event, function.new_context())
        finally:
            started.release_slot()

    def _timed_out(self, function: LocalFunction, started: _Start) -> HandlerTimeout:
        started.release_slot()
        return HandlerTimeout(f"{function.name} timed out after {function.timeout_s:g} s")

    def invoke(self, function: LocalFunction, event: Any, invocation_type: str = SYNC) -> Any:
        """Blocking invoke (for pumps, which run in their own threads). With Lambda's payload quotas:
        RequestTooLarge before the function runs, ResponseTooLarge after (synchronous invocations only)."""
        check_request(function.name, event, invocation_type)
        started = _Start(self._slots)
        future = self._pool.submit(self._call, function, event, started)
        while True:
            try:
                result = future.result(timeout=started.remaining(function.timeout_s))
            except concurrent.futures.TimeoutError:
                if started.expired(function.timeout_s):
                    raise self._timed_out(function, started) from None
                continue
            return check_response(function.name, result) if invocation_type == SYNC else None

    async def invoke_async(self, function: LocalFunction, event: Any) -> Any:
        """A synchronous invocation awaited on the event loop (the API gateways)."""
        check_request(function.name, event, SYNC)
        loop = asyncio.get_running_loop()
        started = _Start(self._slots)
        future = loop.run_in_executor(self._pool, self._call, function, event, started)
        while True:
            try:
                result = await asyncio.wait_for(asyncio.shield(future), timeout=started.remaining(function.timeout_s))
            except TimeoutError:
                if started.expired(function.timeout_s):
                    raise self._timed_out(function, started) from None
                continue
            return check_response(function.name, result)

    def shutdown(self) -> None:
        # A timed-out handler cannot be killed in-process; don't wait for it.
        self._pool.shutdown(wait=False, cancel_futures=True)
