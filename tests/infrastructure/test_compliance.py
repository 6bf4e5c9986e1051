"""cfn-lint over the synthesized templates (cdk-nag's packs are in test_guarantees.py)."""

import subprocess
import sys
from pathlib import Path

from stacks import constants

STACKS = (constants.STATEFUL_STACK_ID, constants.STATELESS_STACK_ID)


def test_cfn_lint_reports_nothing_on_either_template(cloud_assembly) -> None:
    # Given both templates and the repo's .cfnlintrc.yaml (warnings ignored there, each with its reason)
    repo_root: Path = cloud_assembly.directory.parent
    templates = [str(cloud_assembly.directory / f"{stack}.template.json") for stack in STACKS]
    cfn_lint = Path(sys.executable).with_name("cfn-lint")

    # When cfn-lint runs on them
    result = subprocess.run([str(cfn_lint), *templates], cwd=repo_root, capture_output=True, text=True, check=False)

    # Then it finds no error and no warning
    assert result.returncode == 0, result.stdout + result.stderr
