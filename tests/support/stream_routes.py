"""The stream routers as the synthesized template declares them: each router function's table and routes
(its STREAM_ROUTES variable, a Fn::Join of JSON text and references), read from the raw template JSON."""

import json
from dataclasses import dataclass
from typing import Any

from pinhole.streams.models import ROUTES_ENV

ROUTER_PATH = "/StreamRoutes/"


def with_placeholders(value: Any) -> str:
    """A template string value with each reference left as `{"Ref": id}`'s id between @ signs."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(with_placeholders(part) for part in parts)
    if isinstance(value, dict) and "Ref" in value:
        return f"@{value['Ref']}@"
    return "@unresolved@"


@dataclass(frozen=True)
class TemplateRoute:
    consumer: str  # the consumer's construct path, e.g. "FeedFanout/PostsStream"
    queue: str  # the logical id of its routed queue
    fifo: bool
    patterns: list[dict[str, Any]]


@dataclass(frozen=True)
class TemplateRouter:
    function: str  # logical id
    table: str  # the short name ("posts")
    routes: list[TemplateRoute]
    variables_json: str  # the router's variables, references as placeholders


def routers(resources: dict[str, Any]) -> dict[str, TemplateRouter]:
    """Every stream router of the stateless stack's resources, by table."""
    found = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function" or ROUTER_PATH not in resource["Metadata"]["aws:cdk:path"]:
            continue
        variables = resource["Properties"]["Environment"]["Variables"]
        config = json.loads(with_placeholders(variables[ROUTES_ENV]))
        routes = [
            TemplateRoute(route["consumer"], route["queue_url"].strip("@"), route["fifo"], route["patterns"])
            for route in config["routes"]
        ]
        rendered = json.dumps({name: with_placeholders(value) for name, value in variables.items()})
        found[config["table"]] = TemplateRouter(logical_id, config["table"], routes, rendered)
    return found
