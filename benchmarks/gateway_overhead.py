"""The local cloud's startup time, and what its HTTP gateway adds per request over calling the handler.

`GET /health` (the meta function) through the gateway over a keep-alive socket, against the same
handler called directly with an equivalent payload-v2 event, alternating, in one process.
Uses cdk.out (or $PINHOLE_CDK_OUT); prints JSON to stdout.
"""

import json
import os
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = 500
WARMUP = 50


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run() -> dict[str, object]:
    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "pinhole")]
    from local.http_gateway import build_event
    from local.server import BackgroundCloud

    cdk_out = Path(os.environ.get("PINHOLE_CDK_OUT", ROOT / "cdk.out"))
    started = time.perf_counter()
    background = BackgroundCloud.start(cdk_out, start_pumps=False)
    ready_s = time.perf_counter() - started
    try:
        cloud = background.cloud
        route = next(r for api in cloud.apis for r in api.routes if r.route_key == "GET /health")
        function = cloud.runner.get(route.function_logical_id)
        handler = function.handler()
        event = build_event(
            method="GET",
            raw_path="/health",
            raw_query="",
            header_pairs=[("host", "127.0.0.1")],
            body=b"",
            route_key=route.route_key,
            path_parameters={},
            api_id="bench",
            domain_name="127.0.0.1",
            source_ip="127.0.0.1",
            request_id="bench",
            claims=None,
        )
        gateway, direct = [], []
        with httpx.Client(base_url=cloud.outputs["HttpApiUrl"]) as client:
            for i in range(WARMUP + REQUESTS):
                t0 = time.perf_counter()
                assert client.get("/health").status_code == 200
                t1 = time.perf_counter()
                handler(event, function.new_context())
                t2 = time.perf_counter()
                if i >= WARMUP:
                    gateway.append((t1 - t0) * 1000)
                    direct.append((t2 - t1) * 1000)
    finally:
        background.stop()
    return {
        "template": str(cdk_out),
        "startup_s": round(background.cloud.startup_s, 3),
        "startup_to_serving_s": round(ready_s, 3),
        "requests": REQUESTS,
        "gateway_p50_ms": round(statistics.median(gateway), 3),
        "gateway_p95_ms": round(_percentile(gateway, 0.95), 3),
        "direct_p50_ms": round(statistics.median(direct), 3),
        "direct_p95_ms": round(_percentile(direct, 0.95), 3),
        "overhead_p50_ms": round(statistics.median(gateway) - statistics.median(direct), 3),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
