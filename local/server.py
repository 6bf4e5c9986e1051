"""Serving the local cloud's ASGI app with uvicorn, in the foreground (CLI) or a thread (tests, benchmarks)."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Callable

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from local.cloud import LocalCloud
from local.endpoints import LocalEndpoints
from local.errors import error_response
from local.fast_dynamodb import Consistency
from local.websocket_frames import FrameSizeLimitedWebSockets


def bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit this: without it a keep-alive response written in two parts
    # waits ~40 ms for the client's delayed ACK (Nagle).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


log = logging.getLogger("local")


class PumpsFirstServer(uvicorn.Server):
    """On Ctrl-C, the event pumps stop (and their in-flight invocations finish) before the HTTP side
    goes away: a handler still running must find the S3 front and the gateway it calls. With
    `settle_s`, the pumps first work off what is already waiting (bounded), so a snapshot taken
    after them holds the feeds, notifications and index entries of everything written before."""

    def __init__(self, config: uvicorn.Config, cloud: LocalCloud, settle_s: float = 0.0) -> None:
        super().__init__(config)
        self.cloud = cloud
        self.settle_s = settle_s
        self._draining = False

    def handle_exit(self, sig: int, frame: object) -> None:
        if self._draining:  # a second Ctrl-C: stop now
            super().handle_exit(sig, frame)  # type: ignore[arg-type]
            return
        self._draining = True
        threading.Thread(target=self._drain, name="drain-pumps", daemon=True).start()

    def _drain(self) -> None:
        if self.settle_s and not self.cloud.settle_pumps(self.settle_s):
            log.warning("event pumps still busy after %.0f s; stopping them with work left", self.settle_s)
        self.cloud.stop_pumps()
        self.should_exit = True


class DenialIsACompleteHandshake(logging.Filter):
    """Drops the error uvicorn's websockets-sansio protocol logs after every WebSocket denial response
    (Kludex/uvicorn#3138): the gateway refusing a handshake with an HTTP status, as AWS does, is a complete
    answer, not an app that forgot to accept."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "ASGI callable returned without completing handshake."


class EnvelopedProtocolErrors(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, but a request that is not valid HTTP (a Content-Length that is no number, a
    header line h11 cannot read) is refused in the API's error envelope, as every other error, not with uvicorn's
    text/plain "Invalid HTTP request received." (the fuzz soak's finding). The app never sees such a request."""

    def send_400_response(self, msg: str) -> None:
        refusal = error_response(400, "bad_request", "This is not a valid HTTP request.")
        headers = [(b"content-type", refusal.media_type.encode()), (b"connection", b"close")]
        for event in (
            h11.Response(status_code=400, headers=headers),
            h11.Data(data=bytes(refusal.body)),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event))
        self.transport.close()


def make_server(cloud: LocalCloud, log_level: str = "warning", settle_s: float = 0.0) -> uvicorn.Server:
    config = uvicorn.Config(
        cloud.app,
        lifespan="off",
        log_level=log_level,
        timeout_graceful_shutdown=1,
        http=EnvelopedProtocolErrors,
        ws=FrameSizeLimitedWebSockets,
    )
    # After Config, which (re)configures uvicorn's loggers.
    uvicorn_errors = logging.getLogger("uvicorn.error")
    if not any(isinstance(existing, DenialIsACompleteHandshake) for existing in uvicorn_errors.filters):
        uvicorn_errors.addFilter(DenialIsACompleteHandshake())
    return PumpsFirstServer(config, cloud, settle_s)


async def serve(server: uvicorn.Server, sock: socket.socket, on_started: Callable[[], None]) -> None:
    async def when_started() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.01)
        on_started()

    cloud = getattr(server, "cloud", None)
    if isinstance(cloud, LocalCloud):
        cloud.serving_on(asyncio.get_running_loop())
    watcher = asyncio.create_task(when_started())
    await server.serve(sockets=[sock])
    watcher.cancel()


class BackgroundCloud:
    """A started local cloud served from a daemon thread; `stop()` shuts everything down."""

    def __init__(self, cloud: LocalCloud, server: uvicorn.Server, thread: threading.Thread, sock: socket.socket):
        self.cloud = cloud
        self._server = server
        self._thread = thread
        self._sock = sock

    @classmethod
    def start(
        cls,
        cdk_out: object,
        host: str = "127.0.0.1",
        start_pumps: bool = True,
        consistency: Consistency | None = None,
    ) -> BackgroundCloud:
        from pathlib import Path

        sock = bind(host, 0)
        cloud = LocalCloud.start(
            Path(str(cdk_out)), LocalEndpoints(host, sock.getsockname()[1]), start_pumps, consistency=consistency
        )
        server = make_server(cloud)
        thread = threading.Thread(target=lambda: asyncio.run(serve(server, sock, lambda: None)), daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline:
                raise TimeoutError("local cloud did not start within 10 s")
            time.sleep(0.01)
        return cls(cloud, server, thread, sock)

    def stop(self) -> None:
        self.cloud.stop_pumps()
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self.cloud.stop()
        self._sock.close()
