"""`python -m local`: run the CDK app on this machine.

Binds the port first (so a taken port fails fast with exit code 2), provisions, serves until
SIGINT/SIGTERM, and writes the outputs file only once every endpoint answers.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import logging
import os
import signal
import sys
from pathlib import Path

from local.cloud import OUTPUT_KEYS, LocalCloud
from local.endpoints import LocalEndpoints
from local.server import bind, make_server, serve

EXIT_PORT_TAKEN = 2


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
    return parser.parse_args(argv)


def write_outputs(path: Path, outputs: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps({key: outputs[key] for key in OUTPUT_KEYS}, indent=2) + "\n")
    # Atomic, so a watcher never reads a half-written file.
    temporary.replace(path)


def announce(cloud: LocalCloud) -> None:
    outputs = cloud.outputs
    routes = sum(len(api.routes) for api in cloud.apis)
    print(
        f"Pinhole local cloud ready in {cloud.startup_s:.2f} s ({len(cloud.runner.functions)} functions, "
        f"{routes} routes, {len(cloud.pumps)} event pumps)"
    )
    print(f"  HTTP API     {outputs['HttpApiUrl']}")
    print(f"  API docs     {outputs['HttpApiUrl'].rstrip('/')}/docs")
    print(f"  WebSocket    {outputs['WebSocketUrl']}")
    print(f"  Media        {outputs['MediaBaseUrl']}")
    print(f"  S3 endpoint  {cloud.endpoints.s3}")
    print(f"  User pool    {outputs['UserPoolId']} (client {outputs['UserPoolClientId']}), moto at {cloud.moto_url}")
    print("Ctrl-C to stop.", flush=True)


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
    port = sock.getsockname()[1]
    endpoints = LocalEndpoints(host=args.host, port=port)
    cloud = LocalCloud.start(args.cdk_out.resolve(), endpoints)
    try:
        server = make_server(cloud, args.log_level)
        # uvicorn re-raises the signal it shut down on once the old handlers are back; with
        # these no-ops that ends the serve loop instead of killing the process before cleanup.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: None)

        def ready() -> None:
            write_outputs(args.outputs, cloud.outputs)
            announce(cloud)

        asyncio.run(serve(server, sock, ready))
    finally:
        cloud.stop()
        sock.close()
        args.outputs.unlink(missing_ok=True)
    print("Pinhole local cloud stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
