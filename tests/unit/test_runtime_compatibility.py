"""Lambda runs the code on Python 3.12; the tests run on 3.11. Every module must at least compile on 3.12."""

import os
import shutil
import subprocess
from pathlib import Path

from tests.support.ci import skip_unless_ci

ROOT = Path(__file__).resolve().parents[2]
PYTHON_312 = shutil.which("python3.12")


def test_lambda_code_compiles_on_the_deployed_runtime(tmp_path: Path) -> None:
    if PYTHON_312 is None:
        skip_unless_ci("no python3.12 on PATH to compile with")
    sources = [ROOT / "layers" / "pinhole" / "pinhole", ROOT / "functions"]

    result = subprocess.run(
        [str(PYTHON_312), "-m", "compileall", "-q", *map(str, sources)],
        capture_output=True,
        text=True,
        # pyenv's shim picks the interpreter from PYENV_VERSION; a plain python3.12 ignores it
        env={**os.environ, "PYENV_VERSION": "3.12", "PYTHONPYCACHEPREFIX": str(tmp_path)},
    )

    assert result.returncode == 0, result.stdout + result.stderr
