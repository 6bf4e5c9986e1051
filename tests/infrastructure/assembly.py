"""The synthesized cloud assembly (cdk.out/, written by `make synth`), read once, and what the
infrastructure tests need to walk it: resources by type, by construct path, and references followed
across the two stacks (Ref, Fn::GetAtt and the Fn::ImportValue of a CDK cross-stack reference)."""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
CDK_OUT = REPO_ROOT / "cdk.out"


@dataclass(frozen=True)
class Resource:
    stack: str
    logical_id: str
    body: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.body["Type"])

    @property
    def properties(self) -> dict[str, Any]:
        return dict(self.body.get("Properties", {}))

    @property
    def path(self) -> str:
        """The construct path, which names the resource in test ids and failures."""
        path = self.body.get("Metadata", {}).get("aws:cdk:path", f"{self.stack}/{self.logical_id}")
        return str(path).removesuffix("/Resource")


@dataclass(frozen=True)
class CloudAssembly:
    directory: Path
    templates: dict[str, dict[str, Any]]

    def resources(self, stack: str, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.templates[stack]["Resources"].items()
            if resource["Type"] == resource_type
        }

    def resource_at(self, stack: str, construct_path: str) -> tuple[str, dict[str, Any]]:
        """The resource whose aws:cdk:path is `<stack>/<construct_path>`."""
        wanted = f"{stack}/{construct_path}"
        for logical_id, resource in self.templates[stack]["Resources"].items():
            if resource.get("Metadata", {}).get("aws:cdk:path") == wanted:
                return logical_id, resource
        raise AssertionError(f"no resource at {wanted}")

    def all_of(self, *resource_types: str) -> list[Resource]:
        """Every resource of these types in every stack, in template order."""
        return [
            Resource(stack, logical_id, body)
            for stack, template in sorted(self.templates.items())
            for logical_id, body in template["Resources"].items()
            if body["Type"] in resource_types
        ]

    def get(self, stack: str, logical_id: str) -> Resource:
        return Resource(stack, logical_id, self.templates[stack]["Resources"][logical_id])

    def referenced(self, stack: str, value: Any) -> tuple[Resource, str] | None:
        """The resource a property value points at, and the attribute taken ("Ref" for a Ref), through
        Fn::ImportValue into the exporting stack; None if the value is not a single reference."""
        if not isinstance(value, dict) or len(value) != 1:
            return None
        ((function, argument),) = value.items()
        if function == "Ref" and argument in self.templates[stack]["Resources"]:
            return self.get(stack, argument), "Ref"
        if function == "Fn::GetAtt":
            logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            return self.get(stack, logical_id), attribute
        if function == "Fn::ImportValue" and isinstance(argument, str):
            for exporter, template in self.templates.items():
                for output in template.get("Outputs", {}).values():
                    if output.get("Export", {}).get("Name") == argument:
                        return self.referenced(exporter, output["Value"])
        return None


@cache
def load_cloud_assembly() -> CloudAssembly | None:
    """Both stacks' templates, or None when cdk.out/ has not been synthesized."""
    manifest_file = CDK_OUT / "manifest.json"
    if not manifest_file.exists():
        return None
    manifest = json.loads(manifest_file.read_text())
    templates = {
        name: json.loads((CDK_OUT / artifact["properties"]["templateFile"]).read_text())
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    return CloudAssembly(directory=CDK_OUT, templates=templates)
