"""The synthesized cloud assembly (cdk.out/, written by `make synth`), read once, and what the
infrastructure tests need to walk it: resources by type, by construct path, and references followed
across the two stacks (Ref, Fn::GetAtt and the Fn::ImportValue of a CDK cross-stack reference)."""

import json
import re
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


_TOKEN = re.compile(r"@@token(\d+)@@")


def sdk_call(resource: Resource, phase: str = "Create") -> dict[str, Any]:
    """The SDK call of a CDK AwsCustomResource (`Custom::AWS`) for `phase` (Create, Update, Delete): the JSON
    CloudFormation passes to the provider, decoded. A value made of references comes back as CloudFormation
    would write it: one reference as itself, a string around references as an `Fn::Join` of its pieces."""
    value = resource.properties[phase]
    parts = value["Fn::Join"][1] if isinstance(value, dict) else [value]
    tokens = [part for part in parts if not isinstance(part, str)]
    text, index = "", 0
    for part in parts:
        if isinstance(part, str):
            text += part
        else:
            text += f"@@token{index}@@"
            index += 1

    def restore(found: Any) -> Any:
        if isinstance(found, dict):
            return {key: restore(item) for key, item in found.items()}
        if isinstance(found, list):
            return [restore(item) for item in found]
        if not isinstance(found, str) or not _TOKEN.search(found):
            return found
        # re.split with one group: text at even places, a token's index at odd ones
        pieces = enumerate(_TOKEN.split(found))
        joined = [tokens[int(piece)] if place % 2 else piece for place, piece in pieces if place % 2 or piece]
        return joined[0] if len(joined) == 1 else {"Fn::Join": ["", joined]}

    return dict(restore(json.loads(text)))


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
