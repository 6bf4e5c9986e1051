"""The AWS calls a Lambda handler's code can make, found statically, for the template grant test.

Method: mypy type-checks every handler module with the domain package (the types it already checks), and
a call graph is built over functions/ and pinhole/ from the resolved callees — plain calls, methods by the
receiver's inferred type, properties, and functions passed as values (callbacks such as record handlers
and route functions). From a function's entry point (its Handler, plus the resolver's route functions
when the handler calls `resolve`), every reachable call that reaches AWS is a leaf:

- PynamoDB: Model methods (get/query/save/update/delete/batch_*...) on a model class or instance, Index
  queries and scans, TransactWrite/TransactGet items, the raw reads of pinhole.shared.raw_items (the model
  class their first argument) — with the model's table (and index) read from the model classes at run
  time, so the resource is exact;
- boto3 clients: `<client>.<method>(...)` and `get_paginator("<op>")` where the client is a module-level
  `boto3.client("<service>")` (or `pinhole.shared.aws_clients.client("<service>")`, botocore's), the call of a
  module-level function that returns one (a client made on first use), an attribute assigned from one (directly,
  through a parameter default, or in a property, also `given or made()`); resource parameters given as
  `get_settings().<field>` are exact, others are unknown;
- Powertools: `get_secret` (secretsmanager:GetSecretValue on the secret it names), the idempotency layer
  (Get/Put/Update/DeleteItem on its table).

What it cannot see (the e2e suite under enforcement covers these at run time): calls through objects
typed `Any` other than the client forms above; code reached only by dynamic dispatch (getattr, a
collaborator passed in whose default is not the production one); resources computed at run time (a
bucket held in a variable: the check is then "granted on some resource"); condition values (s3:prefix);
calls made by libraries other than PynamoDB, boto3 and the two Powertools utilities.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from botocore.session import get_session
from mypy import build
from mypy.modulefinder import BuildSource
from mypy.nodes import (
    AssignmentStmt,
    CallExpr,
    ClassDef,
    Decorator,
    Expression,
    FuncDef,
    MemberExpr,
    MypyFile,
    NameExpr,
    Node,
    OpExpr,
    OverloadedFuncDef,
    RefExpr,
    ReturnStmt,
    StrExpr,
    TypeInfo,
    Var,
)
from mypy.options import Options
from mypy.types import Instance, Type, TypeType, UnionType, get_proper_type
from pynamodb.indexes import Index
from pynamodb.models import Model

from local.iam.authorizer import Authorizer
from local.iam.evaluator import Statement, glob_match
from local.iam.identity import Identity
from local.iam.operations import accesses_of
from pinhole.shared.settings import get_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
OWN_CODE = ("functions.", "pinhole.")
_MODEL_ACTIONS = {
    "get": "GetItem",
    "refresh": "GetItem",
    "batch_get": "BatchGetItem",
    "query": "Query",
    "scan": "Scan",
    "count": "Query",
    "exists": "DescribeTable",
    "describe_table": "DescribeTable",
    "save": "PutItem",
    "update": "UpdateItem",
    "delete": "DeleteItem",
    "batch_write": "BatchWriteItem",
}
_TRANSACT_ACTIONS = {
    "save": "PutItem",
    "update": "UpdateItem",
    "delete": "DeleteItem",
    "condition_check": "ConditionCheckItem",
    "get": "GetItem",
}
_IDEMPOTENCY_ACTIONS = ("GetItem", "PutItem", "UpdateItem", "DeleteItem")
# pinhole.shared.raw_items: reads through a model's connection, the model class their first argument
_RAW_READS = {
    "pinhole.shared.raw_items.batch_get_raw": "BatchGetItem",
    "pinhole.shared.raw_items.query_raw": "Query",
}


@dataclass(frozen=True)
class AwsCall:
    """An IAM action the code can need, on a resource ARN; or, when the code computes the resource at run
    time, on some resource starting with `within` (None: on any resource)."""

    action: str
    resource: str | None
    where: str  # the function that makes it
    within: str | None = None


@dataclass
class CodeCalls:
    """The call graph of the handlers' code and the AWS calls at its leaves."""

    edges: dict[str, set[str]] = field(default_factory=dict)
    leaves: dict[str, set[AwsCall]] = field(default_factory=dict)
    routes: dict[str, set[str]] = field(default_factory=dict)  # module -> its route functions

    def reachable_calls(self, entry: str) -> set[AwsCall]:
        todo, seen = [entry], set()
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            todo.extend(self.edges.get(node, ()))
            if node.endswith(".<routes>"):  # a resolver dispatching to the module's route functions
                todo.extend(self.routes.get(node.removesuffix(".<routes>"), ()))
        return {call for node in seen for call in self.leaves.get(node, ())}


def analyse(handler_modules: dict[str, Path]) -> CodeCalls:
    options = Options()
    options.preserve_asts = True
    options.export_types = True
    options.incremental = False
    options.ignore_missing_imports = True
    options.check_untyped_defs = True
    options.mypy_path = [str(REPO_ROOT / "layers" / "pinhole")]
    sources = [BuildSource(str(path), module) for module, path in handler_modules.items()]
    result = build.build(sources=sources, options=options)
    calls = CodeCalls()
    clients = _ClientVariables()
    trees = [state.tree for name, state in result.graph.items() if name.startswith(OWN_CODE) and state.tree]
    for tree in trees:  # every module's clients first: a class may hold one made in another module
        clients.collect_module(tree)
    for tree in trees:
        clients.collect_classes(tree)
    for tree in trees:
        _Collector(tree, result.types, calls, clients).run()
    return calls


# -- boto3 clients --

CLIENT_FACTORIES = frozenset({"boto3.client", "pinhole.shared.aws_clients.client"})  # (service, ...) -> a client


def _boto3_client_service(expression: Expression | None) -> str | None:
    if not (isinstance(expression, CallExpr) and expression.args and isinstance(expression.args[0], StrExpr)):
        return None
    callee = expression.callee
    # boto3 has no type stubs here: `boto3.client` is an attribute of an untyped module, matched by its names.
    is_boto3_client = (isinstance(callee, RefExpr) and callee.fullname in CLIENT_FACTORIES) or (
        isinstance(callee, MemberExpr)
        and callee.name == "client"
        and isinstance(callee.expr, NameExpr)
        and callee.expr.name == "boto3"
    )
    return expression.args[0].value if is_boto3_client else None


class _ClientVariables:
    """Which module variables and instance attributes hold a boto3 client of which service."""

    def __init__(self) -> None:
        self.variables: dict[str, str] = {}  # fullname -> service
        self.factories: dict[str, str] = {}  # fullname of a module-level function returning a client -> service
        self.attributes: dict[tuple[str, str], str] = {}  # (class fullname, attribute) -> service
        self.properties: dict[str, str] = {}  # property fullname -> service

    def collect_module(self, tree: MypyFile) -> None:
        for statement in tree.defs:
            if isinstance(statement, AssignmentStmt):
                service = _boto3_client_service(statement.rvalue)
                for target in statement.lvalues:
                    if service and isinstance(target, NameExpr):
                        self.variables[f"{tree.fullname}.{target.name}"] = service
            function = statement.func if isinstance(statement, Decorator) else statement
            if isinstance(function, FuncDef):  # e.g. a functools.cache'd `def _s3(): return boto3.client("s3")`
                for returned in _statements(function):
                    service = _boto3_client_service(returned.expr) if isinstance(returned, ReturnStmt) else None
                    if service:
                        self.factories[function.fullname] = service

    def collect_classes(self, tree: MypyFile) -> None:
        for statement in tree.defs:
            if isinstance(statement, ClassDef):
                self._collect_class(statement.info)

    def _collect_class(self, info: TypeInfo) -> None:
        for name, symbol in info.names.items():
            function = symbol.node.func if isinstance(symbol.node, Decorator) else symbol.node
            if not isinstance(function, FuncDef):
                continue
            defaults = {
                argument.variable.name: self.service_of(argument.initializer)
                for argument in function.arguments
                if argument.initializer is not None
            }
            for statement in _statements(function):
                if isinstance(statement, AssignmentStmt):
                    for target in statement.lvalues:
                        if (
                            isinstance(target, MemberExpr)
                            and isinstance(target.expr, NameExpr)
                            and target.expr.name == "self"
                        ):
                            value = statement.rvalue
                            service = self.service_of(value) or (
                                defaults.get(value.name) if isinstance(value, NameExpr) else None
                            )
                            if service:
                                self.attributes[(info.fullname, target.name)] = service
                if isinstance(statement, ReturnStmt) and isinstance(symbol.node, Decorator):
                    returned = statement.expr
                    if isinstance(returned, MemberExpr) and isinstance(returned.expr, NameExpr):
                        self.properties[f"{info.fullname}.{name}"] = f"@{returned.name}"
                    made = self._made(returned)  # `return self._given or _default_client()`
                    if made:
                        self.attributes[(info.fullname, name)] = made

    def _made(self, expression: Expression | None) -> str | None:
        if isinstance(expression, OpExpr) and expression.op == "or":
            return self.service_of(expression.right) or self.service_of(expression.left)
        return self.service_of(expression)

    def service_of(self, expression: Expression | None) -> str | None:
        service = _boto3_client_service(expression)
        if service:
            return service
        if isinstance(expression, NameExpr) and expression.fullname in self.variables:
            return self.variables[expression.fullname]
        if (
            isinstance(expression, CallExpr)
            and isinstance(expression.callee, RefExpr)
            and expression.callee.fullname in self.factories
        ):
            return self.factories[expression.callee.fullname]
        return None


# Attributes that point back at definitions elsewhere, not at the syntax below a node.
_BACK_REFERENCES = frozenset(
    {"node", "info", "def_var", "var", "original_def", "impl", "original_decorators", "expanded", "analyzed"}
)


def _children(node: Node) -> Iterator[Node]:
    """The syntax nodes under `node` (mypy's compiled traverser cannot be subclassed from interpreted code,
    so its attribute lists are walked instead)."""
    names = getattr(type(node), "__mypyc_attrs__", None) or getattr(type(node), "__slots__", ())
    for name in names:
        if name in _BACK_REFERENCES or name.startswith("_"):
            continue
        value = getattr(node, name, None)
        for item in value if isinstance(value, list | tuple) else [value]:
            if isinstance(item, Node) and not isinstance(item, TypeInfo | Var | MypyFile):
                yield item
            elif isinstance(item, tuple):
                yield from (part for part in item if isinstance(part, Node))


def _walk(node: Node) -> Iterator[Node]:
    todo, seen = [node], set()
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(_children(current))


def _statements(function: FuncDef) -> Iterator[AssignmentStmt | ReturnStmt]:
    return (node for node in _walk(function.body) if isinstance(node, AssignmentStmt | ReturnStmt))


@cache
def _operations(service: str) -> dict[str, str]:
    model = get_session().get_service_model(service)
    from botocore import xform_name

    return {xform_name(name): name for name in model.operation_names}


# -- the collector --


class _Collector:
    def __init__(
        self, tree: MypyFile, types: dict[Expression, Type], calls: CodeCalls, clients: _ClientVariables
    ) -> None:
        self.tree = tree
        self.types = types
        self.calls = calls
        self.clients = clients
        self.here = f"{tree.fullname}.<module>"
        self.locals: dict[str, dict[str, str]] = {}

    def run(self) -> None:
        module_scope = f"{self.tree.fullname}.<module>"
        for statement in self.tree.defs:
            self._visit(statement, module_scope)

    def _edge(self, target: str) -> None:
        self.calls.edges.setdefault(self.here, set()).add(target)

    def _leaf(self, action: str, resource: str | None, within: str | None = None) -> None:
        self.calls.leaves.setdefault(self.here, set()).add(AwsCall(action, resource, self.here, within))

    def _visit(self, node: Node, scope: str) -> None:
        """Every node under `node`; a function (not nested in another) is a scope of its own."""
        todo: list[tuple[Node, str]] = [(node, scope)]
        seen: set[int] = set()
        while todo:
            current, where = todo.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            if isinstance(current, FuncDef) and where.endswith(".<module>"):
                where = current.fullname  # a nested function belongs to the function that defines it
            if isinstance(current, FuncDef) and where == current.fullname:
                self._settings_locals(current)
            if isinstance(current, ClassDef):
                for statement in current.defs.body:
                    inner = statement.func if isinstance(statement, Decorator) else statement
                    todo.append((statement, inner.fullname if isinstance(inner, FuncDef) else where))
                continue
            self.here = where
            if isinstance(current, Decorator):
                self._route(current)
            elif isinstance(current, NameExpr):
                self._reference(current)
            elif isinstance(current, MemberExpr):
                self._reference(current)
                receivers = self._receiver_class(current.expr)
                if receivers is not None:
                    self._member_of(receivers, current)
            elif isinstance(current, CallExpr):
                self._call(current)
            todo.extend((child, where) for child in _children(current))

    def _route(self, o: Decorator) -> None:
        for decorator in o.decorators:
            if (
                isinstance(decorator, CallExpr)
                and isinstance(decorator.callee, MemberExpr)
                and decorator.callee.name in {"get", "post", "put", "patch", "delete", "route", "head"}
            ):
                self.calls.routes.setdefault(self.tree.fullname, set()).add(o.func.fullname)

    def _call(self, o: CallExpr) -> None:
        callee = o.callee
        if isinstance(callee, MemberExpr) and callee.name == "resolve":
            self._edge(f"{self.tree.fullname}.<routes>")
        if isinstance(callee, MemberExpr):
            self._client_call(callee, o)
            self._transaction_call(callee, o)
        if isinstance(callee, RefExpr) and callee.fullname in _RAW_READS and o.args:
            for info, _ in self._receiver_class(o.args[0]) or []:  # the model class the raw read is of
                if info.has_base("pynamodb.models.Model"):
                    self._leaf(f"dynamodb:{_RAW_READS[callee.fullname]}", _model_resource(info.fullname))
        if (
            isinstance(callee, RefExpr)
            and callee.name == "get_secret"
            and callee.fullname.startswith("aws_lambda_powertools.utilities.parameters")
        ):
            self._leaf("secretsmanager:GetSecretValue", self._settings_value(o.args[0] if o.args else None))

    def _reference(self, o: RefExpr) -> None:
        node = o.node
        if isinstance(node, FuncDef | Decorator | OverloadedFuncDef) and node.fullname.startswith(OWN_CODE):
            self._edge(node.fullname)
        elif isinstance(node, TypeInfo):
            if node.fullname.startswith(OWN_CODE):
                self._edge(f"{node.fullname}.__init__")
            if node.fullname.endswith("DynamoDBPersistenceLayer"):
                table = get_settings().idempotency_table_name
                for action in _IDEMPOTENCY_ACTIONS:
                    self._leaf(f"dynamodb:{action}", _table_arn(table))

    def _receiver_class(self, expression: Expression) -> list[tuple[TypeInfo, bool]] | None:
        """The classes an expression's value can be an instance (False) or a class object (True) of."""
        if isinstance(expression, RefExpr) and isinstance(expression.node, TypeInfo):
            return [(expression.node, True)]  # `PostModel.get(...)`: mypy types a class name as its constructor
        found = self.types.get(expression)
        if found is None:
            return None
        proper = get_proper_type(found)
        items = proper.items if isinstance(proper, UnionType) else [proper]
        classes = []
        for item in items:
            item = get_proper_type(item)
            if isinstance(item, Instance):
                classes.append((item.type, False))
            elif isinstance(item, TypeType) and isinstance(get_proper_type(item.item), Instance):
                classes.append((get_proper_type(item.item).type, True))  # type: ignore[union-attr]
        return classes or None

    def _member_of(self, receivers: list[tuple[TypeInfo, bool]], o: MemberExpr) -> None:
        for info, _is_class in receivers:
            for base in info.mro:
                if o.name not in base.names:
                    continue
                node = base.names[o.name].node
                if base.fullname.startswith(OWN_CODE) and isinstance(node, FuncDef | Decorator | OverloadedFuncDef):
                    self._edge(f"{base.fullname}.{o.name}")
                elif base.fullname == "pynamodb.models.Model" and o.name in _MODEL_ACTIONS:
                    self._leaf(f"dynamodb:{_MODEL_ACTIONS[o.name]}", _model_resource(info.fullname))
                elif base.fullname == "pynamodb.indexes.Index" and o.name in ("query", "scan", "count"):
                    action = "Scan" if o.name == "scan" else "Query"
                    self._leaf(f"dynamodb:{action}", _index_resource(info.fullname))
                break

    def _transaction_call(self, callee: MemberExpr, call: CallExpr) -> None:
        receivers = self._receiver_class(callee.expr) or []
        if not any(info.fullname.startswith("pynamodb.transactions.Transact") for info, _ in receivers):
            return
        if callee.name not in _TRANSACT_ACTIONS or not call.args:
            return
        for info, _ in self._receiver_class(call.args[0]) or []:
            if info.has_base("pynamodb.models.Model"):
                self._leaf(f"dynamodb:{_TRANSACT_ACTIONS[callee.name]}", _model_resource(info.fullname))

    def _client_service(self, expression: Expression) -> str | None:
        service = self.clients.service_of(expression)
        if service or not isinstance(expression, MemberExpr):
            return service
        for info, _ in self._receiver_class(expression.expr) or []:
            for base in info.mro:
                attribute = self.clients.attributes.get((base.fullname, expression.name))
                if attribute:
                    return attribute
                through = self.clients.properties.get(f"{base.fullname}.{expression.name}")
                if through:
                    return self.clients.attributes.get((base.fullname, through[1:]))
        return None

    def _client_call(self, callee: MemberExpr, call: CallExpr) -> None:
        paginated = callee.expr if callee.name == "paginate" else None
        if (  # client.get_paginator("<operation>").paginate(**parameters)
            isinstance(paginated, CallExpr)
            and isinstance(paginated.callee, MemberExpr)
            and paginated.callee.name == "get_paginator"
            and paginated.args
            and isinstance(paginated.args[0], StrExpr)
        ):
            service = self._client_service(paginated.callee.expr)
            operation = _operations(service).get(paginated.args[0].value) if service else None
        else:
            service = self._client_service(callee.expr)
            if service is None or callee.name == "get_paginator":
                return
            operation = _operations(service).get(callee.name)
            if callee.name == "generate_presigned_post":
                operation = "PutObject"  # the signer's permission is what S3 checks when the POST is used
        if service is None or operation is None:
            return
        known = {
            name: value
            for name, argument in zip(call.arg_names, call.args, strict=True)
            if name and (value := self._settings_value(argument)) is not None
        }
        for action, resource, within in static_accesses(service, operation, known):
            self._leaf(action, resource, within)

    def _settings_locals(self, function: FuncDef) -> None:
        """Local names bound once to a setting (`bucket = get_settings().media_bucket_name`)."""
        for statement in _statements(function):
            if isinstance(statement, AssignmentStmt) and len(statement.lvalues) == 1:
                target = statement.lvalues[0]
                value = self._settings_value(statement.rvalue)
                if isinstance(target, NameExpr) and value is not None:
                    self.locals.setdefault(function.fullname, {})[target.name] = value

    def _settings_value(self, expression: Expression | None) -> str | None:
        """`get_settings().<field>` (or `_settings.<field>`, or a local bound to one): its value, else None."""
        if isinstance(expression, NameExpr):
            return self.locals.get(self.here, {}).get(expression.name)
        if isinstance(expression, MemberExpr) and hasattr(get_settings(), expression.name):
            value = getattr(get_settings(), expression.name)
            return value if isinstance(value, str) else None
        return None


def _table_arn(table: str) -> str:
    return f"arn:aws:dynamodb:us-east-1:123456789012:table/{table}"


def _class(fullname: str) -> type:
    module, _, name = fullname.rpartition(".")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def _model_resource(fullname: str) -> str | None:
    model = _class(fullname)
    return _table_arn(model.Meta.table_name) if issubclass(model, Model) and model is not Model else None


def _index_resource(fullname: str) -> str | None:
    index = _class(fullname)
    if not issubclass(index, Index):
        return None
    model = getattr(index, "_model", None) or next(
        (
            candidate
            for module_name in [fullname.rpartition(".")[0]]
            for candidate in vars(importlib.import_module(module_name)).values()
            if isinstance(candidate, type)
            and issubclass(candidate, Model)
            and any(isinstance(value, index) for value in vars(candidate).values())
        ),
        None,
    )
    if model is None:
        return None
    return f"{_table_arn(model.Meta.table_name)}/index/{index.Meta.index_name}"


UNKNOWN = "\x00"  # a parameter whose value is computed at run time


class _Unknowns(dict[str, Any]):
    """Call parameters: the known ones, and UNKNOWN for any other the mapper requires."""

    def __missing__(self, key: str) -> Any:
        structured = {
            "Delete": {"Objects": [{"Key": UNKNOWN}]},
            "RequestItems": {UNKNOWN: {}},
            "TransactItems": [],
            "CopySource": f"{UNKNOWN}/{UNKNOWN}",
            "QueueUrl": f"https://sqs.us-east-1.amazonaws.com/{UNKNOWN}/{UNKNOWN}",
        }
        return structured.get(key, UNKNOWN)

    def get(self, key: str, default: Any = None) -> Any:
        # The bucket is the one optional-looking parameter the mappers read with a default.
        return self[key] if key in self or key == "Bucket" else default


class _StaticLookups:
    region = "us-east-1"
    account = "123456789012"

    def secret_arn(self, secret_id: str) -> str:
        return secret_id

    def websocket_api(self, endpoint_url: str) -> tuple[str, str]:
        return UNKNOWN, UNKNOWN


def static_accesses(service: str, operation: str, known: dict[str, str]) -> list[tuple[str, str | None, str | None]]:
    """What local IAM enforcement would check for the call, with the parameters computed at run time
    unknown: (action, exact resource, or the prefix the resource starts with)."""
    parameters = _Unknowns({"UserPoolId": UNKNOWN} if service == "cognito-idp" else {})
    parameters.update(known)
    found = accesses_of(service, operation, parameters, _StaticLookups()) or []
    result = []
    for access in found:
        if UNKNOWN in access.resource:
            within = access.resource[: access.resource.index(UNKNOWN)]
            result.append((access.action, None, within or None))
        else:
            result.append((access.action, access.resource, None))
    return result


def missing_grants(authorizer: Authorizer, identity: Identity, calls: set[AwsCall]) -> list[str]:
    """The calls the role's identity-based policies do not allow (conditions on run-time values aside)."""
    missing = []
    for call in sorted(calls, key=lambda c: (c.action, c.resource or "", c.where)):
        statements = authorizer.store.identity_statements(identity.role_arn)
        if call.resource is not None:
            allowed = any(_allows(statement, call.action, call.resource) for statement in statements)
        else:
            allowed = any(
                _allows(statement, call.action, None)
                and any(
                    call.within is None or pattern == "*" or pattern.startswith(call.within)
                    for pattern in statement.resources
                )
                for statement in statements
            )
        denied = any(
            statement.effect == "Deny" and call.resource is not None and _allows(statement, call.action, call.resource)
            for statement in statements
        )
        if not allowed or denied:
            missing.append(f"{call.action} on {call.resource or (call.within or '*') + '…'} (from {call.where})")
    return missing


def _allows(statement: Statement, action: str, resource: str | None) -> bool:
    """Whether the statement names the action (and the resource), its conditions taken as satisfiable."""
    if statement.effect != "Allow" and resource is None:
        return False
    if statement.actions and not any(glob_match(p, action, ignore_case=True) for p in statement.actions):
        return False
    if statement.not_actions and any(glob_match(p, action, ignore_case=True) for p in statement.not_actions):
        return False
    if resource is None:
        return True
    if statement.resources:
        return any(glob_match(pattern, resource) for pattern in statement.resources)
    return not any(glob_match(pattern, resource) for pattern in statement.not_resources)
