"""A function's variables are in os.environ only while it is imported, and removed after: botocore, which reads the
environment by iterating it when a client is made, reads it under the same lock, or a client made on another
thread meanwhile could meet a variable removed mid-iteration (a KeyError: a 500 of a like, seen in
tests/e2e/test_eventual_consistency.py while another environment of the function started)."""

import os
import threading
from pathlib import Path
from typing import Any, cast

import botocore.endpoint

from local.lambda_runner import LocalFunction, function_environment

WAIT_S = 10


def importing(name: str) -> LocalFunction:
    return LocalFunction(
        resource=cast(Any, None),
        name=name,
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        asset_dir=Path("."),
        handler_path="handler.handler",
        environment={"PINHOLE_TEST_ONLY_VARIABLE": "set"},
        timeout_s=3,
        memory_mb=128,
        module_file=Path("handler.py"),
    )


def test_botocore_reads_the_environment_only_once_no_import_is_changing_it() -> None:
    # Given a function being imported on one thread: its variables in os.environ until it is done
    entered, release, read = threading.Event(), threading.Event(), threading.Event()

    def import_it() -> None:
        with function_environment(importing("slow-import")):
            entered.set()
            release.wait(WAIT_S)

    importer = threading.Thread(target=import_it)
    importer.start()
    assert entered.wait(WAIT_S)

    # When another thread makes a client (botocore looks for proxy variables)
    reader = threading.Thread(target=lambda: (botocore.endpoint.get_environ_proxies("https://example.com"), read.set()))
    reader.start()

    # Then it reads only once the import put the environment back
    assert not read.wait(0.2)
    release.set()
    importer.join(WAIT_S)
    assert read.wait(WAIT_S)
    reader.join(WAIT_S)
    assert "PINHOLE_TEST_ONLY_VARIABLE" not in os.environ


def test_an_import_that_makes_a_client_reads_the_environment_it_set() -> None:
    # The lock is re-entrant: a module that makes a client at import time, inside function_environment, goes on
    with function_environment(importing("eager-client")):
        assert botocore.endpoint.get_environ_proxies("https://example.com") == {}
