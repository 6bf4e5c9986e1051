"""`python -m local`: run the CDK app on this machine.

Binds the port first (so a taken port fails fast with exit code 2), restores the state saved by the
last clean shutdown (an unreadable one is exit code 2 too), provisions, serves until SIGINT/SIGTERM,
prints its banner, then writes the outputs file, only once every endpoint answers. On SIGINT/SIGTERM the event pumps
work off what is waiting, then everything testers created is saved to the state directory.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import gc
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path

from local.cloud import OUTPUT_KEYS, LocalCloud
from local.endpoints import LocalEndpoints
from local.fast_dynamodb import Consistency
from local.fast_dynamodb.consistency import (
    DEFAULT_GSI_LAG_MS,
    DEFAULT_TRANSACTION_WINDOW_MS,
    EVENTUAL,
    STRONG,
)
from local.mailbox import MAIL_PREFIX
from local.push_inbox import PUSH_PREFIX
from local.server import bind, make_server, serve
from local.staleness import staleness_warning
from local.state import SnapshotUnreadable, StateDir

EXIT_PORT_TAKEN = 2
EXIT_STATE_UNREADABLE = 2
EXIT_STATE_NOT_SAVED = 1
SETTLE_BEFORE_SAVING_S = 5.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local", description="Run Pinhole's local cloud.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PINHOLE_PORT", "8000")),
        help="0 picks a free port (default: $PINHOLE_PORT or 8000)",
    )
    parser.add_argument("--outputs", type=Path, default=Path(".local/outputs.json"))
    parser.add_argument("--cdk-out", type=Path, default=Path(os.environ.get("PINHOLE_CDK_OUT", "cdk.out")))
    parser.add_argument("--log-level", default=os.environ.get("PINHOLE_LOG_LEVEL", "warning"))
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(".local/state"),
        help="where the state is saved on a clean shutdown and restored from on start (default .local/state)",
    )
    parser.add_argument("--reset", action="store_true", help="delete the saved state and start clean")
    parser.add_argument(
        "--consistency",
        choices=[STRONG, EVENTUAL],
        default=os.environ.get("PINHOLE_CONSISTENCY", STRONG),
        help="DynamoDB's: strong (default) or eventual: GSI reads lag, transactions conflict (docs/LOCAL_CLOUD.md)",
    )
    parser.add_argument(
        "--gsi-lag-ms",
        type=_milliseconds,
        default=DEFAULT_GSI_LAG_MS,
        help=f"with --consistency eventual: how far GSI reads lag behind writes (default {DEFAULT_GSI_LAG_MS})",
    )
    parser.add_argument(
        "--transaction-window-ms",
        type=_milliseconds,
        default=DEFAULT_TRANSACTION_WINDOW_MS,
        help="with --consistency eventual: how long a transaction holds its items before it commits "
        f"(default {DEFAULT_TRANSACTION_WINDOW_MS})",
    )
    return parser.parse_args(argv)


def _milliseconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of milliseconds") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} ms: cannot be negative")
    return value


def consistency_of(args: argparse.Namespace) -> Consistency:
    return Consistency(args.consistency, args.gsi_lag_ms, args.transaction_window_ms)


def write_outputs(path: Path, outputs: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps({key: outputs[key] for key in OUTPUT_KEYS}, indent=2) + "\n")
    # Atomic, so a watcher never reads a half-written file.
    temporary.replace(path)


def announce(cloud: LocalCloud, state: StateDir) -> None:
    outputs = cloud.outputs
    routes = sum(len(api.routes) for api in cloud.apis)
    print(
        f"Pinhole local cloud ready in {cloud.startup_s:.2f} s ({len(cloud.runner.functions)} functions, "
        f"{routes} routes, {len(cloud.pumps)} event pumps)"
    )
    print(f"  Web app      {outputs['WebAppUrl']}   (Pinhole Web: open this in a browser)")
    print(f"  HTTP API     {outputs['HttpApiUrl']}")
    print(f"  API docs     {outputs['HttpApiUrl'].rstrip('/')}/docs")
    print(f"  WebSocket    {outputs['WebSocketUrl']}")
    print(f"  Media        {outputs['MediaBaseUrl']}")
    print(f"  S3 endpoint  {cloud.endpoints.s3}")
    print(f"  Mailbox      {cloud.endpoints.base}{MAIL_PREFIX}   (the codes Cognito would e-mail; local only)")
    print(f"  Push inbox   {cloud.endpoints.base}{PUSH_PREFIX}   (what SNS would push to each phone; local only)")
    print(f"  User pool    {outputs['UserPoolId']} (client {outputs['UserPoolClientId']}), moto at {cloud.moto_url}")
    print(f"  DynamoDB     {cloud.consistency.describe()}")
    if cloud.restored is not None:
        print(f"  State        restored {cloud.restored.summary()} from {state.path} in {cloud.restored.seconds:.2f} s")
    else:
        print(f"  State        starting clean; saved to {state.path} on Ctrl-C (--reset starts clean again)")
    print("Ctrl-C to stop.", flush=True)


def save_state(cloud: LocalCloud, state: StateDir) -> bool:
    """After a clean shutdown: everything testers created, into the state directory (atomically)."""
    cloud.stop_pumps(timeout_s=2)  # already stopped unless a second Ctrl-C cut the drain short
    started = time.perf_counter()
    try:
        snapshot = cloud.capture()
        size = state.write(snapshot)
    except Exception as error:  # one line; the previous snapshot stays as it was
        print(f"local cloud: could not save the state to {state.path}: {error}", file=sys.stderr)
        return False
    print(
        f"Saved {snapshot.summary()} to {state.path} ({size / 1e6:.1f} MB, "
        f"{time.perf_counter() - started:.2f} s); `--reset` starts clean.",
        flush=True,
    )
    return True


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        sock = bind(args.host, args.port)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            print(
                f"local cloud: port {args.port} on {args.host} is already in use "
                "(stop the other process or pass --port / PINHOLE_PORT)",
                file=sys.stderr,
            )
            return EXIT_PORT_TAKEN
        raise
    if not (args.cdk_out / "manifest.json").is_file():
        print(
            f"local cloud: {args.cdk_out}/manifest.json not found; synthesize first "
            "(CDK_OUTDIR=cdk.out .venv/bin/python app.py)",
            file=sys.stderr,
        )
        return 1
    state = StateDir(args.state_dir)
    if args.reset:
        state.reset()
    port = sock.getsockname()[1]
    endpoints = LocalEndpoints(host=args.host, port=port)
    try:
        snapshot = state.read()
        cloud = LocalCloud.start(
            args.cdk_out.resolve(), endpoints, restore=snapshot, stable_ids=True, consistency=consistency_of(args)
        )
    except SnapshotUnreadable as error:
        print(
            f"local cloud: the state saved in {state.path} cannot be restored: {error}; "
            "start with --reset to discard it (or move it away to keep it)",
            file=sys.stderr,
        )
        sock.close()
        return EXIT_STATE_UNREADABLE
    saved = True
    try:
        server = make_server(cloud, args.log_level, settle_s=SETTLE_BEFORE_SAVING_S)
        # uvicorn re-raises the signal it shut down on once the old handlers are back; with
        # these no-ops that ends the serve loop instead of killing the process before cleanup.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: None)

        def ready() -> None:
            # the banner first: whoever waits for the outputs file then reads a banner already printed
            if warning := staleness_warning(args.cdk_out):
                print(warning, file=sys.stderr, flush=True)
            announce(cloud, state)
            write_outputs(args.outputs, cloud.outputs)

        asyncio.run(serve(server, sock, ready))
        saved = save_state(cloud, state)
    finally:
        cloud.stop()
        sock.close()
        args.outputs.unlink(missing_ok=True)
    print("Pinhole local cloud stopped.", flush=True)
    return 0 if saved else EXIT_STATE_NOT_SAVED


if __name__ == "__main__":
    code = main()
    # Everything is saved and stopped. Without this, the interpreter's last garbage collection over the
    # handler modules and moto's backends took 3-9 s after "stopped" (measured under load), so a
    # Ctrl-C then `make run` waited for nothing useful.
    gc.freeze()
    sys.exit(code)
