"""The domain layer ships bytecode for the runtime's Python (stacks/layer_bundling.py): /opt is read-only on
Lambda, so a module without it is compiled from source on every cold start."""

from pathlib import Path
from typing import Any

from stacks.layer_bundling import PYTHON_VERSION, RUNTIME_PYTHON_VARIABLE, runtime_python
from tests.infrastructure.test_transcode import _package
from tests.support.ci import skip_unless_ci

RUNTIME_TAG = "cpython-" + PYTHON_VERSION.replace(".", "")


def _needs_the_runtime_python() -> None:
    if runtime_python() is None:
        skip_unless_ci(
            f"no Python {PYTHON_VERSION} here (nor ${RUNTIME_PYTHON_VARIABLE}): synth built the layers without "
            "bytecode and warned so"
        )


def _domain_layer(cloud_assembly: Any, stateless: Any) -> Path:
    parts = _package(cloud_assembly, stateless, "feed_read")
    return next(path for name, path in parts.items() if name.startswith("Pinhole domain")) / "python"


def test_every_module_a_function_imports_has_bytecode_for_the_runtime(cloud_assembly: Any, stateless: Any) -> None:
    _needs_the_runtime_python()
    # Given the domain layer as staged for deployment
    layer = _domain_layer(cloud_assembly, stateless)

    # Then every module of pinhole and of the libraries every function imports has 3.12 bytecode beside it
    for package in ("pinhole", "botocore", "pydantic", "aws_lambda_powertools", "pynamodb"):
        sources = list((layer / package).rglob("*.py"))
        assert sources, package
        missing = [
            source
            for source in sources
            if not (source.parent / "__pycache__" / f"{source.stem}.{RUNTIME_TAG}.pyc").is_file()
        ]
        assert missing == [], f"{package}: {len(missing)} of {len(sources)} modules without bytecode"


def test_the_layer_carries_no_bytecode_for_another_python(cloud_assembly: Any, stateless: Any) -> None:
    # Given the domain layer as staged (pip's own bytecode would be the build machine's Python's)
    layer = _domain_layer(cloud_assembly, stateless)

    # Then every bytecode file is the runtime's
    foreign = [path.name for path in layer.rglob("*.pyc") if f".{RUNTIME_TAG}." not in path.name]
    assert foreign == []
