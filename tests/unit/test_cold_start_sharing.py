"""What importing pinhole does for every function's cold start (pinhole.shared.cold_start): every botocore
session shares one data loader (PynamoDB makes a session per connection per thread, and each used to parse
botocore's JSON data again), and what was imported before is frozen out of the collector's traversals."""

import json
import os
import subprocess
import sys
from pathlib import Path

import botocore.session
from pynamodb.connection import Connection

import pinhole  # noqa: F401 - importing the package shares the loader
from pinhole.shared.cold_start import share_one_data_loader

ROOT = Path(__file__).resolve().parents[2]


def test_sessions_made_by_pynamodb_and_boto3_share_one_loader() -> None:
    # Given two PynamoDB connections (each makes its own session) and a plain botocore session
    sessions = [Connection(region="us-east-1").session, Connection(region="eu-west-1").session]
    sessions.append(botocore.session.get_session())

    # Then they all read botocore's data through the same loader
    loaders = {id(session.get_component("data_loader")) for session in sessions}
    assert len(loaders) == 1


def test_a_client_from_a_later_session_reuses_the_parsed_service_model() -> None:
    # Given a DynamoDB client made from one session
    first = botocore.session.get_session()
    first.create_client("dynamodb", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    loader = first.get_component("data_loader")
    parsed = loader.load_service_model("dynamodb", "service-2")

    # When another session makes one (sharing again changes nothing)
    share_one_data_loader()
    second = botocore.session.get_session()
    client = second.create_client("dynamodb", region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b")

    # Then it is a working client over the very same parsed model
    assert second.get_component("data_loader").load_service_model("dynamodb", "service-2") is parsed
    assert client.meta.region_name == "eu-west-1"
    assert client.meta.service_model.service_name == "dynamodb"


def test_importing_pinhole_freezes_what_was_imported_before_it() -> None:
    # Given a fresh interpreter that imports botocore, then pinhole
    code = (
        "import gc, json, botocore.session\n"
        "before = gc.get_freeze_count()\n"
        "import pinhole\n"
        "print(json.dumps([before, gc.get_freeze_count()]))"
    )
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'pinhole'}:{ROOT}"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    before, after = json.loads(result.stdout)

    # Then nothing was frozen before, and what botocore and the interpreter hold (tens of thousands) is after
    assert before == 0
    assert after > 10_000
