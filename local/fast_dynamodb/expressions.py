"""Update expressions without re-parsing and without pickle-speed copies.

moto parses an UpdateExpression on every UpdateItem (twice: once in the request handler, once in the
backend), and its validator deep-copies the parsed tree with `copy.deepcopy`, which goes through
`__reduce_ex__` for every node, then walks it ten times, rebuilding a dict of node classes at every
node. For the messaging transaction (four items, long SET clauses) that was most of its cost.
Here the backend's parse is cached per expression text (the cached tree is only ever copied), the
copy is a direct one (`clone`), and each traverser's class map is built once per validation. The
result is moto's validator run on an equal tree: same checks, same errors, same evaluation."""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.parsing.ast_nodes import Node, UpdateExpression  # type: ignore[attr-defined]
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]
from moto.dynamodb.parsing.validators import UpdateExpressionValidator

_IMMUTABLE = (str, int, float, bool, type(None))


@lru_cache(maxsize=2048)
def _parsed(expression: str) -> UpdateExpression:
    return UpdateExpressionParser.make(expression)


def parse_update_expression(expression: str) -> UpdateExpression:
    """The parsed tree of `expression`; shared: callers must copy it (the validator below does) before
    changing it. A syntax error raises as moto's parser raises it (errors are not cached)."""
    return _parsed(expression)


def clone(value: Any, memo: dict[int, Any]) -> Any:
    """A deep copy of a parsed expression tree (nodes, their children lists, parent links, values)."""
    if isinstance(value, _IMMUTABLE):
        return value
    found = memo.get(id(value))
    if found is not None:
        return found
    if isinstance(value, Node):
        twin = value.__class__.__new__(value.__class__)
        memo[id(value)] = twin
        twin.__dict__.update({name: clone(item, memo) for name, item in value.__dict__.items()})
        return twin
    if isinstance(value, list):
        copied: list[Any] = []
        memo[id(value)] = copied
        copied.extend(clone(item, memo) for item in value)
        return copied
    if isinstance(value, DynamoType):
        return copy.deepcopy(value, memo)
    return copy.deepcopy(value, memo)


class FastUpdateExpressionValidator(UpdateExpressionValidator):
    """moto's UpdateExpressionValidator (same processors, same order), with a direct copy of the tree and
    each processor's node-class map computed once."""

    def __init__(
        self,
        expression: Node,
        expression_attribute_names: dict[str, str],
        expression_attribute_values: dict[str, dict[str, Any]],
        item: Any,
        table: Any,
    ) -> None:
        self.expression_attribute_names = expression_attribute_names
        self.expression_attribute_values = expression_attribute_values
        self.item = item
        self.table = table
        self.processors = self.get_ast_processors()
        for processor in self.processors:
            _memoise_class_map(processor)
        self.node_to_validate = clone(expression, {})


def _memoise_class_map(processor: Any) -> None:
    mapping = processor._processing_map()
    kinds = tuple(mapping)

    def nodes_to_be_processed() -> tuple[type, ...]:
        return kinds

    def process(node: Any) -> Any:
        for kind, function in mapping.items():
            if isinstance(node, kind):
                return function(node)
        return None

    processor.nodes_to_be_processed = nodes_to_be_processed
    processor.process = process
