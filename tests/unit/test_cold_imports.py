"""What an API function's cold start imports and makes: not the X-Ray SDK (its recorder builds two botocore clients at
import), with tracing off as in tests and on as on AWS; not cryptography (the WebSocket authorizer's token check imports
it; page cursors' cipher, on the first cursor a function makes or reads); not Powertools' OpenAPI models (meta's alone:
it makes /openapi.json); not Powertools' event-source models (queue and stream consumers' alone: the SQS records each
context's queue_records.py parses); not boto3. The figures are benchmarks/cold_start.py's; these are the facts they
rest on, in fresh interpreters."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.cold_start import API_FUNCTIONS

ROOT = Path(__file__).resolve().parents[2]
NOT_AT_IMPORT = (
    "aws_xray_sdk.core",
    "cryptography",
    "aws_lambda_powertools.event_handler.openapi.models",
    "aws_lambda_powertools.utilities.parser.models",
)

PROBE = """
import importlib, json, sys
for context in {contexts!r}:
    importlib.import_module(f"functions.{{context}}.handler")
print(json.dumps(sorted(name for name in {modules!r} if name in sys.modules)))
"""

TRACED_CALL = """
import json, sys
import botocore.client
from pinhole.shared.observability import tracer, xray

@tracer.capture_method
def traced():
    return "done"

before = "aws_xray_sdk.core" in sys.modules
answer = traced()
seen = {"enabled": xray.enabled, "before": before, "answer": answer, "after": "aws_xray_sdk.core" in sys.modules}
if seen["after"]:
    from aws_xray_sdk.core import xray_recorder
    seen["botocore_patched"] = hasattr(botocore.client.BaseClient._make_api_call, "__wrapped__")
    seen["streaming_threshold"] = xray_recorder.streaming_threshold
print(json.dumps(seen))
"""


def _environment(tracing: bool) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'pinhole'}:{ROOT}"}
    if tracing:  # as in a Lambda execution environment with active tracing
        env.pop("POWERTOOLS_TRACE_DISABLED", None)
        env.update({"LAMBDA_TASK_ROOT": str(ROOT), "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR"})
    return env


def _run(code: str, tracing: bool) -> object:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_environment(tracing), cwd=ROOT, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("tracing", [False, True], ids=["tracing-off", "tracing-on-as-on-aws"])
def test_no_api_function_imports_the_xray_sdk_cryptography_or_the_openapi_models(tracing: bool) -> None:
    serving_routes = tuple(context for context in API_FUNCTIONS if context != "meta")  # meta makes the document

    loaded = _run(PROBE.format(contexts=serving_routes, modules=NOT_AT_IMPORT), tracing)
    loaded_by_meta = _run(PROBE.format(contexts=("meta",), modules=NOT_AT_IMPORT), tracing)

    assert loaded == []
    assert loaded_by_meta == ["aws_lambda_powertools.event_handler.openapi.models"]


def test_the_probe_sees_a_module_that_is_imported() -> None:
    """The check above cannot pass for nothing: the WebSocket authorizer does verify tokens with cryptography."""
    code = PROBE.replace('f"functions.{{context}}.handler"', 'f"functions.messaging.{{context}}"')

    assert _run(code.format(contexts=("authorizer",), modules=NOT_AT_IMPORT), False) == ["cryptography"]


def test_with_tracing_on_the_first_traced_call_starts_xray_with_its_patches() -> None:
    seen = _run(TRACED_CALL, tracing=True)

    assert seen == {
        "enabled": True,
        "before": False,
        "answer": "done",
        "after": True,
        "botocore_patched": True,  # clients made before it are traced too: the patch is on the class
        "streaming_threshold": 0,
    }


def test_with_tracing_off_a_traced_call_never_imports_xray() -> None:
    seen = _run(TRACED_CALL, tracing=False)

    assert seen == {"enabled": False, "before": False, "answer": "done", "after": False}


def test_feed_read_imports_no_upload_privacy_or_account_use_cases() -> None:
    """A feed shows posts (pinhole.posts.views) and stories (pinhole.stories.feed); creating them, the privacy
    checks of single reads and the account use cases are other functions' work."""
    use_cases = (
        "pinhole.posts.logic",
        "pinhole.users.logic",
        "pinhole.graph.logic",
        "pinhole.stories.logic",
        "pinhole.upload.signer",
        "pinhole.transcode.models",
    )
    loaded = _run(PROBE.format(contexts=("feed_read",), modules=use_cases), False)
    loaded_by_upload = _run(PROBE.format(contexts=("upload",), modules=use_cases), False)

    assert loaded == []
    assert set(loaded_by_upload) >= {"pinhole.posts.logic", "pinhole.stories.logic"}  # the probe does see them


def test_the_notifications_api_imports_no_delivery() -> None:
    """Listing, the badge and marking read need the store and the people; making and delivering notifications
    (pinhole.notifications.delivery: the stream models, the pusher, push to phones) is the consumers' work."""
    delivery = (
        "pinhole.notifications.delivery",
        "pinhole.notifications.activity",
        "pinhole.realtime.push",
        "pinhole.push.queue",
        "aws_lambda_powertools.utilities.parser.models",
    )
    loaded = _run(PROBE.format(contexts=("notifications",), modules=delivery), False)
    loaded_by_consumers = _run(
        PROBE.replace(".handler", ".consumers").format(contexts=("notifications",), modules=delivery), False
    )

    assert loaded == []
    assert set(loaded_by_consumers) == set(delivery)  # the probe does see them


@pytest.mark.parametrize("tracing", [False, True], ids=["tracing-off", "tracing-on-as-on-aws"])
def test_no_api_function_imports_boto3(tracing: bool) -> None:
    """Their clients (Cognito's, feed_read's cursor key and feed writer, the pushers', the upload signer's, the stream
    transport's...) are botocore's: boto3 and s3transfer, which it imports, cost ~15 ms of CPU for nothing those
    clients use. What needs boto3 imports it when first used: Powertools' idempotency layer (the first request with
    an Idempotency-Key), the S3 clients whose `upload_file` renditions go up with, the export's and purge's value
    conversions. All are imported in one interpreter: if none imports boto3, together they do not either."""
    modules = ("boto3", "s3transfer", "aws_lambda_powertools.utilities.parameters", "botocore.client")

    loaded = _run(PROBE.format(contexts=API_FUNCTIONS, modules=modules), tracing)

    assert loaded == ["botocore.client"]


def test_the_boto3_probe_sees_boto3_when_it_is_imported() -> None:
    """resize makes its S3 client on first use too, but imports boto3 through the transcode queue's client."""
    modules = ("boto3", "s3transfer")

    assert _run(PROBE.format(contexts=("resize",), modules=modules), False) == ["boto3", "s3transfer"]


CLIENTS_AT_IMPORT = """
import importlib, json
import botocore.session
made = []
create_client = botocore.session.Session.create_client

def recording(self, service_name, *args, **kwargs):
    made.append(service_name)
    return create_client(self, service_name, *args, **kwargs)

botocore.session.Session.create_client = recording
for context in {contexts!r}:
    importlib.import_module(f"functions.{{context}}.handler")
print(json.dumps(made))
"""


def test_the_api_functions_make_at_import_only_the_clients_nearly_all_their_requests_use() -> None:
    # A client is ~30 ms of a cold start. PynamoDB and the pushers make theirs on first use; so do the clients of
    # what a function reaches only on some routes (privacy's export and purge clients from auth, the avatar's and
    # the message pictures' S3, the CDN's SQS and CloudFront): auth's Cognito is the one made at import.
    others = tuple(context for context in API_FUNCTIONS if context != "auth")

    assert _run(CLIENTS_AT_IMPORT.format(contexts=others), tracing=False) == []
    assert _run(CLIENTS_AT_IMPORT.format(contexts=("auth",)), tracing=False) == ["cognito-idp"]
