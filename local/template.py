"""The synthesized CDK app as data: stacks, resources, and a small intrinsic-function resolver.

Everything the local cloud wires (routes, authorizers, event sources, environment variables,
handler entry points) is read from here, so the template stays the single source of truth.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"


class TemplateError(Exception):
    """The template uses something the local cloud cannot resolve."""


@dataclass(frozen=True)
class Resource:
    stack: Stack
    logical_id: str
    type: str
    properties: dict[str, Any]
    metadata: dict[str, Any]

    def __repr__(self) -> str:
        return f"Resource({self.stack.name}/{self.logical_id}: {self.type})"


@dataclass(eq=False)
class Stack:
    name: str
    template: dict[str, Any]
    directory: Path
    resources: dict[str, Resource] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for logical_id, body in self.template.get("Resources", {}).items():
            self.resources[logical_id] = Resource(
                stack=self,
                logical_id=logical_id,
                type=body["Type"],
                properties=body.get("Properties", {}) or {},
                metadata=body.get("Metadata", {}) or {},
            )

    @property
    def outputs(self) -> dict[str, Any]:
        return self.template.get("Outputs", {}) or {}


@dataclass(frozen=True)
class Attributes:
    """What a provisioned resource resolves to: `Ref` and its `Fn::GetAtt` attributes."""

    ref: str
    attributes: dict[str, str] = field(default_factory=dict)
    # Wiring-only resources (roles, OACs, log groups...): any attribute gets a stable placeholder.
    any_attribute: bool = False

    def get(self, attribute: str) -> str | None:
        if attribute in self.attributes:
            return self.attributes[attribute]
        return f"{self.ref}.{attribute}" if self.any_attribute else None


class CloudAssembly:
    """The stacks of a `cdk.out` directory, and the physical values of their resources."""

    def __init__(self, stacks: list[Stack]) -> None:
        self.stacks = {stack.name: stack for stack in stacks}
        self.physical: dict[tuple[str, str], Attributes] = {}
        self._literal_exports: dict[str, tuple[Stack, dict[str, Any]]] | None = None

    @classmethod
    def load(cls, outdir: Path) -> CloudAssembly:
        manifest = json.loads((outdir / "manifest.json").read_text())
        stacks = []
        for name, artifact in manifest.get("artifacts", {}).items():
            if artifact.get("type") != "aws:cloudformation:stack":
                continue
            template_file = artifact["properties"]["templateFile"]
            template = json.loads((outdir / template_file).read_text())
            stacks.append(Stack(name=name, template=template, directory=outdir))
        if not stacks:
            raise TemplateError(f"no CloudFormation stack in {outdir / 'manifest.json'}")
        return cls(stacks)

    @classmethod
    def from_templates(cls, templates: dict[str, dict[str, Any]], directory: Path) -> CloudAssembly:
        return cls([Stack(name=name, template=body, directory=directory) for name, body in templates.items()])

    def resources(self, resource_type: str | None = None) -> Iterator[Resource]:
        for stack in self.stacks.values():
            for resource in stack.resources.values():
                if resource_type is None or resource.type == resource_type:
                    yield resource

    def set_physical(self, resource: Resource, ref: str, any_attribute: bool = False, **attributes: str) -> None:
        self.physical[(resource.stack.name, resource.logical_id)] = Attributes(ref, attributes, any_attribute)

    def physical_of(self, resource: Resource) -> Attributes:
        try:
            return self.physical[(resource.stack.name, resource.logical_id)]
        except KeyError:
            raise TemplateError(f"{resource} is not provisioned locally") from None

    def resource_by_ref(self, stack: Stack, ref: str) -> Resource | None:
        """The resource whose local physical id (or ARN) is `ref`, searching `stack` first."""
        ordered = [stack, *(s for s in self.stacks.values() if s is not stack)]
        for candidate_stack in ordered:
            for resource in candidate_stack.resources.values():
                attrs = self.physical.get((candidate_stack.name, resource.logical_id))
                if attrs and (attrs.ref == ref or attrs.attributes.get("Arn") == ref):
                    return resource
        return None

    def export_value(self, export_name: str) -> Any:
        # A stack's export names are literal strings in CDK's templates: those are looked up, not resolved again for
        # each of the ~1,300 imports a start resolves; any other name is resolved as it comes.
        if self._literal_exports is None:
            self._literal_exports = {
                output["Export"]["Name"]: (stack, output)
                for stack in self.stacks.values()
                for output in stack.outputs.values()
                if isinstance(output.get("Export", {}).get("Name"), str)
            }
        found = self._literal_exports.get(export_name)
        if found is not None:
            stack, output = found
            return self.resolve(stack, output["Value"])
        for stack in self.stacks.values():
            for output in stack.outputs.values():
                export = output.get("Export", {}).get("Name")
                if export is not None and not isinstance(export, str) and self.resolve(stack, export) == export_name:
                    return self.resolve(stack, output["Value"])
        raise TemplateError(f"no stack exports {export_name!r}")

    def resolve(self, stack: Stack, value: Any) -> Any:
        return _Resolver(self, stack).resolve(value)


class _Resolver:
    def __init__(self, assembly: CloudAssembly, stack: Stack) -> None:
        self.assembly = assembly
        self.stack = stack
        self.functions: dict[str, Callable[[Any], Any]] = {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Join": self._join,
            "Fn::Sub": self._sub,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::ImportValue": lambda arg: self.assembly.export_value(self.resolve(arg)),
            "Fn::If": self._unsupported("Fn::If"),
        }

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, arg),) = value.items()
                if key in self.functions:
                    return self.functions[key](arg)
            return {key: self.resolve(item) for key, item in value.items()}
        return value

    def _unsupported(self, name: str) -> Callable[[Any], Any]:
        def fail(_arg: Any) -> Any:
            raise TemplateError(f"{name} is not supported by the local cloud")

        return fail

    def _pseudo(self, name: str) -> str | None:
        return {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": URL_SUFFIX,
            "AWS::StackName": self.stack.name,
            "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{self.stack.name}/local",
            "AWS::NoValue": None,
        }.get(name)

    def _ref(self, name: str) -> Any:
        if name.startswith("AWS::"):
            return self._pseudo(name)
        parameters = self.stack.template.get("Parameters", {})
        if name in parameters:
            return self._parameter_default(name, parameters[name])
        resource = self.stack.resources.get(name)
        if resource is None:
            raise TemplateError(f"Ref to unknown {name!r} in {self.stack.name}")
        return self.assembly.physical_of(resource).ref

    def _parameter_default(self, name: str, parameter: dict[str, Any]) -> Any:
        # CDK's only routine parameter is the bootstrap version; no local meaning.
        if "Default" in parameter:
            return parameter["Default"]
        raise TemplateError(f"parameter {name!r} has no default")

    def _get_att(self, arg: Any) -> str:
        if isinstance(arg, str):
            logical_id, _, attribute = arg.partition(".")
        else:
            logical_id, attribute = arg[0], self.resolve(arg[1])
        resource = self.stack.resources.get(logical_id)
        if resource is None:
            raise TemplateError(f"Fn::GetAtt of unknown {logical_id!r} in {self.stack.name}")
        value = self.assembly.physical_of(resource).get(attribute)
        if value is None:
            raise TemplateError(f"{resource} has no local value for attribute {attribute!r}")
        return value

    def _join(self, arg: list[Any]) -> str:
        delimiter, items = arg
        return str(delimiter).join(str(item) for item in self.resolve(items))

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, str):
            text, variables = arg, {}
        else:
            text, variables = arg[0], self.resolve(arg[1])
        out, i = [], 0
        while i < len(text):
            start = text.find("${", i)
            if start < 0:
                out.append(text[i:])
                break
            out.append(text[i:start])
            end = text.index("}", start)
            name = text[start + 2 : end]
            if name.startswith("!"):
                out.append("${" + name[1:] + "}")
            elif name in variables:
                out.append(str(variables[name]))
            elif "." in name:
                out.append(self._get_att(name))
            else:
                out.append(str(self._ref(name)))
            i = end + 1
        return "".join(out)

    def _select(self, arg: list[Any]) -> Any:
        index, items = self.resolve(arg[0]), self.resolve(arg[1])
        return items[int(index)]

    def _split(self, arg: list[Any]) -> list[str]:
        delimiter, text = arg[0], self.resolve(arg[1])
        return str(text).split(delimiter)
