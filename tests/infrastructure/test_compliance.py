"""cdk-nag (AwsSolutions + Serverless) and cfn-lint over the synthesized templates."""

import json
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import cloudformation_include as cfn_include
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from stacks import constants

STACKS = (constants.STATEFUL_STACK_ID, constants.STATELESS_STACK_ID)
ACKNOWLEDGED = "aws:cdk:acknowledged-rules"
MIN_REASON_LENGTH = 40  # a reason says why this finding is acceptable here, not "not needed"


def _acknowledgements(cloud_assembly, stack: str) -> dict[str, dict[str, str]]:
    """construct path -> {rule id: reason}, from the stack's metadata in cdk.out."""
    metadata = json.loads((cloud_assembly.directory / f"{stack}.metadata.json").read_text())
    found: dict[str, dict[str, str]] = {}
    for path, entries in metadata.items():
        for entry in entries:
            if entry["type"] == ACKNOWLEDGED:
                found.setdefault(path.lstrip("/"), {}).update(entry["data"])
    return found


def _nag_findings_on_raw_template(cloud_assembly, stack: str) -> set[tuple[str, str]]:
    """(rule id, construct path) for every finding cdk-nag reports on the template as synthesized,
    i.e. ignoring every acknowledgement."""
    app = cdk.App()
    scope = cdk.Stack(app, stack)
    cfn_include.CfnInclude(scope, "Template", template_file=str(cloud_assembly.directory / f"{stack}.template.json"))
    resources = cloud_assembly.templates[stack]["Resources"]
    findings = set()
    for pack in (AwsSolutionsChecks(), ServerlessChecks()):
        for violation in pack.validate_scope(scope).violations:
            for resource in violation.violating_resources:
                logical_id = str(resource.construct_path).rsplit("/", 1)[-1]
                findings.add((violation.rule_name, resources[logical_id]["Metadata"]["aws:cdk:path"]))
    return findings


def _is_acknowledged(acknowledged: dict[str, dict[str, str]], rule: str, path: str) -> bool:
    framework_id = f"{rule.split('-', 1)[0]}::{rule}"  # <pack>::<rule>, as the validation framework names it
    return any(
        framework_id in rules and (path == scope or path.startswith(f"{scope}/"))
        for scope, rules in acknowledged.items()
    )


def test_validation_report_has_no_unacknowledged_findings(cloud_assembly) -> None:
    # Given the validation report synth wrote (cdk-nag v3 reports through CDK's validation framework)
    report_file = cloud_assembly.directory / "validation-report.json"
    assert report_file.exists(), "cdk.out/validation-report.json is missing: run `make synth`"

    # When its violations are collected
    report = json.loads(report_file.read_text())
    violations = [
        (plugin["pluginName"], violation["ruleName"], construct["constructPath"])
        for plugin in report["pluginReports"]
        for violation in plugin.get("violations", [])
        for construct in violation.get("violatingConstructs", [])
    ]

    # Then there are none
    assert violations == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_nag_finding_is_acknowledged_with_a_reason(cloud_assembly, stack: str) -> None:
    # Given what cdk-nag finds on the raw template and what the app acknowledges
    findings = _nag_findings_on_raw_template(cloud_assembly, stack)
    acknowledged = _acknowledgements(cloud_assembly, stack)

    # When each finding is looked up on its construct or an ancestor
    unacknowledged = sorted((rule, path) for rule, path in findings if not _is_acknowledged(acknowledged, rule, path))

    # Then every finding is acknowledged (the packs do run: a stack with findings has acknowledgements)
    assert unacknowledged == []
    assert bool(findings) == bool(acknowledged)


@pytest.mark.parametrize("stack", STACKS)
def test_acknowledgements_are_nag_rules_with_specific_reasons(cloud_assembly, stack: str) -> None:
    # Given every acknowledgement of the stack
    acknowledged = _acknowledgements(cloud_assembly, stack)

    for path, rules in acknowledged.items():
        for rule, reason in rules.items():
            # Then it names a rule of the two packs (<pack>::<rule>) and says why it is acceptable
            pack, _, rule_id = rule.partition("::")
            assert pack in {"AwsSolutions", "Serverless"}, (path, rule)
            assert rule_id.startswith(f"{pack}-"), (path, rule)
            assert len(reason) >= MIN_REASON_LENGTH, (path, rule, reason)


def test_cfn_lint_reports_nothing_on_either_template(cloud_assembly) -> None:
    # Given both templates and the repo's .cfnlintrc.yaml (warnings ignored there, each with its reason)
    repo_root: Path = cloud_assembly.directory.parent
    templates = [str(cloud_assembly.directory / f"{stack}.template.json") for stack in STACKS]
    cfn_lint = Path(sys.executable).with_name("cfn-lint")

    # When cfn-lint runs on them
    result = subprocess.run([str(cfn_lint), *templates], cwd=repo_root, capture_output=True, text=True, check=False)

    # Then it finds no error and no warning
    assert result.returncode == 0, result.stdout + result.stderr
