"""Builds a Lambda layer on this machine (no Docker): pip installs the layer's pinned requirements as
arm64 / CPython 3.12 wheels, copies the layer's own package beside them, then compiles the whole layer to
CPython 3.12 bytecode. /opt is read-only on Lambda, so a layer without bytecode for the runtime's Python is
compiled from source on every cold start (pip's own bytecode is the build machine's Python's: useless there).

Reused by every layer: the domain layer today, the imaging layer (Pillow) later.
"""

import glob
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

# Lambda's python3.12 runtime is Amazon Linux 2023 (glibc 2.34): wheels up to manylinux_2_28 run there.
PLATFORMS = ("manylinux_2_28_aarch64", "manylinux2014_aarch64")
PYTHON_VERSION = "3.12"
# Never pulled: local bundling always succeeds or raises, so CDK has no reason to fall back to Docker.
UNUSED_DOCKER_IMAGE = "local-bundling-only"
EXCLUDED = ("__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache")
RUNTIME_PYTHON_VARIABLE = "LAMBDA_RUNTIME_PYTHON"


def runtime_python() -> str | None:
    """An interpreter of the runtime's Python version, to compile the layer with: $LAMBDA_RUNTIME_PYTHON,
    python3.12 on PATH, or a pyenv-installed 3.12 (its shim fails unless that version is selected)."""
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates = [
        os.environ.get(RUNTIME_PYTHON_VARIABLE),
        shutil.which(f"python{PYTHON_VERSION}"),
        *sorted(glob.glob(f"{pyenv_root}/versions/{PYTHON_VERSION}.*/bin/python{PYTHON_VERSION}"), reverse=True),
    ]
    wanted = f"{sys.implementation.name} {PYTHON_VERSION}"
    for candidate in filter(None, candidates):
        probe = subprocess.run(  # noqa: S603 - an interpreter path, fixed argv
            [candidate, "-c", "import sys; print(sys.implementation.name, '%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == wanted:
            return candidate
    return None


def compile_for_runtime(site_packages: Path) -> None:
    """Bytecode for every module, as the runtime's Python reads it; unchecked-hash, because the asset's zip
    does not keep the sources' timestamps that timestamp-checked bytecode is validated against."""
    python = runtime_python()
    if python is None:
        warnings.warn(
            f"no Python {PYTHON_VERSION} found (set {RUNTIME_PYTHON_VARIABLE}): the layer ships without bytecode "
            "and Lambda compiles it from source on every cold start",
            stacklevel=2,
        )
        return
    subprocess.run(  # noqa: S603 - fixed argv, no shell
        [python, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(site_packages)],
        check=True,
    )


@jsii.implements(ILocalBundling)
class PipLayerBundler:
    def __init__(self, package_dir: Path | None, requirements_file: Path, *, with_dependencies: bool = True) -> None:
        self._package_dir = package_dir
        self._requirements_file = requirements_file
        self._with_dependencies = with_dependencies

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_options: object) -> bool:
        site_packages = Path(output_dir) / "python"
        subprocess.run(  # noqa: S603 - fixed argv, no shell
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-r",
                str(self._requirements_file),
                *(arg for platform in PLATFORMS for arg in ("--platform", platform)),
                "--implementation",
                "cp",
                "--python-version",
                PYTHON_VERSION,
                "--only-binary=:all:",
                "--target",
                str(site_packages),
                "--quiet",
                "--no-compile",
                *([] if self._with_dependencies else ["--no-deps"]),
            ],
            check=True,
        )
        if self._package_dir is not None:
            shutil.copytree(
                self._package_dir,
                site_packages / self._package_dir.name,
                ignore=shutil.ignore_patterns(*EXCLUDED),
                dirs_exist_ok=True,
            )
        compile_for_runtime(site_packages)
        return True


def layer_code(
    requirements_file: str, package_dir: str | None = None, *, with_dependencies: bool = True
) -> lambda_.Code:
    """The asset is the layer's source folder (the requirements' folder), hashed as source: an
    unchanged layer whose bundle is already in cdk.out is not rebuilt. A layer of third-party
    packages only has no package_dir; one whose dependencies come from another layer is built
    without them."""
    requirements = Path(requirements_file).resolve()
    package = Path(package_dir).resolve() if package_dir else None
    return lambda_.Code.from_asset(
        str(requirements.parent),
        asset_hash_type=AssetHashType.SOURCE,
        exclude=list(EXCLUDED),
        bundling=BundlingOptions(
            image=DockerImage.from_registry(UNUSED_DOCKER_IMAGE),
            local=PipLayerBundler(package, requirements, with_dependencies=with_dependencies),
        ),
    )
