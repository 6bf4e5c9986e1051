"""Update expressions (and conditions) without re-parsing, without slow copies, without idle walks.

moto parses an UpdateExpression on every UpdateItem (twice: once in the request handler, once in the
backend), and its validator deep-copies the parsed tree with `copy.deepcopy`, which goes through
`__reduce_ex__` for every node, then walks it ten times, rebuilding a dict of node classes at every
node. For the messaging transaction (four items, long SET clauses) that was most of its cost.
Here the backend's parse is cached per expression text (the cached tree is only ever copied), the
copy is `pickle.loads` of the parse pickled once (`clone` where a tree cannot be pickled), and each
traverser's class map is built once per validation and bound into its walk; a walk that can process
nothing is skipped, and a walk does not go below nodes under which nothing it processes can be
(`_Template`). The result is moto's validator run on an equal tree: same checks, same errors, same
evaluation.

Three of moto's ten processors only check the expression's shape (one clause of each kind, no two actions
on overlapping paths, no key attribute updated): their answer depends on the expression, its attribute
names and the table's key attributes, never on the item or the values, and two of them search the whole
tree at every UpdateExpression node (quadratic in the actions: most of a validation of the messaging
transaction's 12-action updates). Once they passed for a parsed tree, names and keys, later validations
of the same skip them; a failure is never remembered, so it is raised again, as moto raises it.

The request handler (UpdateItem, TransactWriteItems) parses each update expression once more before the
backend does, only to list the names it uses: it gets the cached tree too (`install`).

Conditions (`parse_condition`) are parsed once per text, attribute names and the values they read."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from moto.dynamodb.comparisons import create_condition_expression_parser, get_filter_expression
from moto.dynamodb.parsing.ast_nodes import (  # type: ignore[attr-defined]
    DepthFirstTraverser,
    Node,
    UpdateExpression,
    UpdateExpressionAddAction,
    UpdateExpressionDeleteAction,
    UpdateExpressionRemoveAction,
    UpdateExpressionSetAction,
)
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]
from moto.dynamodb.parsing.validators import (
    ActionCountValidator,
    ExpressionAttributeResolvingProcessor,
    OverlappingPathsValidator,
    UpdateExpressionValidator,
    UpdateHashRangeKeyValidator,
)

_IMMUTABLE = (str, int, float, bool, type(None))
_SHAPE_CHECKS = (ActionCountValidator, OverlappingPathsValidator, UpdateHashRangeKeyValidator)
_SHAPES_PASSED_MAX = 4096
_UNKNOWN = object()
# (id of a parsed tree, its attribute names, the table's key attributes) -> the tree, which the entry keeps
# alive so that no other tree can take its id while the entry exists.
_shapes_passed: dict[tuple[int, Any, tuple[str, ...]], Node] = {}


@lru_cache(maxsize=2048)
def _parsed(expression: str) -> UpdateExpression:
    return UpdateExpressionParser.make(expression)


def parse_update_expression(expression: str) -> UpdateExpression:
    """The parsed tree of `expression`; shared: callers must copy it (the validator below does) before
    changing it. A syntax error raises as moto's parser raises it (errors are not cached)."""
    return _parsed(expression)


class _KindOf:
    """`isinstance(value, classes)` answered once per type. The tree's classes are ABCs: an `isinstance` against
    one goes through `ABCMeta.__instancecheck__`, which made most of a walk's cost; `issubclass` of the value's
    type gives the same answer (nothing registers virtual subclasses of moto's nodes)."""

    __slots__ = ("answers", "classes")

    def __init__(self, classes: type | tuple[type, ...]) -> None:
        self.classes = classes
        self.answers: dict[type, bool] = {}

    def __call__(self, value: Any) -> bool:
        kind = type(value)
        found = self.answers.get(kind)
        if found is None:
            found = self.answers[kind] = issubclass(kind, self.classes)
        return found


_is_node = _KindOf(Node)
_IMMUTABLE_TYPES = frozenset(_IMMUTABLE)


def clone(value: Any, memo: dict[int, Any]) -> Any:
    """A deep copy of a parsed expression tree (nodes, their children lists, parent links, values)."""
    kind = type(value)
    if kind in _IMMUTABLE_TYPES:
        return value
    found = memo.get(id(value))
    if found is not None:
        return found
    is_node = _is_node.answers.get(kind)
    if is_node is None:
        is_node = _is_node(value)
    if is_node:
        twin = value.__class__.__new__(value.__class__)
        memo[id(value)] = twin
        twin.__dict__.update(
            {
                name: item if type(item) in _IMMUTABLE_TYPES else clone(item, memo)
                for name, item in value.__dict__.items()
            }
        )
        return twin
    if kind is list:
        copied: list[Any] = []
        memo[id(value)] = copied
        copied.extend(item if type(item) in _IMMUTABLE_TYPES else clone(item, memo) for item in value)
        return copied
    if isinstance(value, _IMMUTABLE):
        return value
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
        processors = self.get_ast_processors()
        names = None if expression_attribute_names is None else tuple(sorted(expression_attribute_names.items()))
        self._shape_key = (id(expression), names, tuple(table.table_key_attrs))
        self._expression = expression
        shape_checks = [isinstance(processor, _SHAPE_CHECKS) for processor in processors]
        self._shape_checks = shape_checks.count(True)
        if shape_checks != sorted(shape_checks, reverse=True) or self._shape_checks != len(_SHAPE_CHECKS):
            self._shape_checks = 0  # not moto's order (shape checks first): nothing is skipped or remembered
        elif _shapes_passed.get(self._shape_key) is expression:
            processors = processors[self._shape_checks :]
            self._shape_checks = 0
        self.processors = processors
        self._template = _template(expression)
        self._put_in: set[type] = set()  # classes of what the walks put into the tree (and of the nodes under it)
        self.node_to_validate = self._template.copy()

    def validate(self) -> Node:
        """moto's `Validator.validate`, noting when the shape checks have passed, and without the walks that
        cannot change the tree: a processor with no per-child hook walks only where the tree can hold a node of
        its classes (not at all if it holds none)."""
        node = self.node_to_validate
        template, put_in = self._template, self._put_in
        for done, processor in enumerate(self.processors, start=1):
            wanted = tuple(processor._processing_map())
            if _has_hook(processor):
                _memoise_class_map(processor, put_in, frozenset())
                node = processor.traverse(node)
            elif any(issubclass(kind, wanted) for kind in template.kinds | put_in):
                _memoise_class_map(processor, put_in, template.barren(wanted, frozenset(put_in)))
                node = processor.traverse(node)
            if done == self._shape_checks:
                if len(_shapes_passed) >= _SHAPES_PASSED_MAX:
                    _shapes_passed.clear()
                _shapes_passed[self._shape_key] = self._expression
        return node


class _Template:
    """A parsed tree as its copies are made: pickled once (a copy is `pickle.loads`, C code doing what
    `copy.deepcopy` does through the same `__reduce_ex__` protocol, ~2.5x faster than `clone`), with the node
    classes it holds and, for each, the classes found under its nodes.

    In a copy being validated, what is under a node of class C is at most what was under C's nodes here, plus
    what the walks put into the tree (`put_in`: a walk changes the tree only by putting what `process` returned
    in the place of the node processed; moto's processors change nothing in place). So a processor's walk
    need not go below a node of a class under which none of that can be of its classes."""

    __slots__ = ("barren_below", "below", "kinds", "pickled", "tree")

    def __init__(self, tree: Node) -> None:
        self.tree = tree  # kept alive: the cache is keyed by its id
        self.below: dict[type, frozenset[type]] = {}
        self.kinds = _classes_in(tree, self.below)
        self.barren_below: dict[tuple[tuple[type, ...], frozenset[type]], frozenset[type]] = {}
        try:
            self.pickled: bytes | None = pickle.dumps(tree, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            self.pickled = None

    def copy(self) -> Node:
        if self.pickled is None:
            return clone(self.tree, {})
        copied: Node = pickle.loads(self.pickled)  # noqa: S301 - bytes this process pickled from its own parse
        return copied

    def barren(self, wanted: tuple[type, ...], put_in: frozenset[type]) -> frozenset[type]:
        """The classes below whose nodes a walk processing `wanted` finds nothing, once `put_in` was put in."""
        key = (wanted, put_in)
        found = self.barren_below.get(key)
        if found is None:
            found = self.barren_below[key] = frozenset(
                kind
                for kind, under in self.below.items()
                if not any(issubclass(each, wanted) for each in under | put_in)
            )
        return found


_TEMPLATES_MAX = 4096
_templates: dict[int, _Template] = {}


def _template(tree: Node) -> _Template:
    found = _templates.get(id(tree))
    if found is None or found.tree is not tree:
        if len(_templates) >= _TEMPLATES_MAX:
            _templates.clear()
        found = _templates[id(tree)] = _Template(tree)
    return found


def _classes_in(value: Any, below: dict[type, frozenset[type]]) -> frozenset[type]:
    """The classes of `value` and of every node under it; into `below`, each class's nodes' descendants' classes."""
    if not _is_node(value):
        return frozenset()
    under: frozenset[type] = frozenset()
    for child in value.children or ():
        under |= _classes_in(child, below)
    kind = type(value)
    below[kind] = below.get(kind, frozenset()) | under
    return under | {kind}


def _kinds_below(value: Any, kinds: set[type]) -> None:
    """Adds the classes of `value` and of every node under it, if it is a node."""
    if not _is_node(value):
        return
    kinds.add(type(value))
    for child in value.children or ():
        _kinds_below(child, kinds)


def _has_hook(processor: Any) -> bool:
    return type(processor).pre_processing_of_child is not DepthFirstTraverser.pre_processing_of_child


def _memoise_class_map(processor: Any, put_in: set[type], barren: frozenset[type]) -> None:
    """Binds the processor's class map into its walk, which does not go below nodes of the `barren` classes; the
    classes of what it puts into the tree (what `process` returns, and the nodes under it) are added to
    `put_in`, so later walks know what the tree may hold."""
    mapping = processor._processing_map()
    kinds = tuple(mapping)
    functions: dict[type, Any] = {}

    def nodes_to_be_processed() -> tuple[type, ...]:
        return kinds

    def process(node: Any) -> Any:
        kind = type(node)
        function = functions.get(kind, _UNKNOWN)
        if function is _UNKNOWN:
            function = functions[kind] = next(
                (function for each, function in mapping.items() if issubclass(kind, each)), None
            )
        processed = None if function is None else function(node)
        if processed is not node:
            _kinds_below(processed, put_in)
        return processed

    processor.nodes_to_be_processed = nodes_to_be_processed
    processor.process = process
    processor.traverse_node_recursively = _walk(processor, _KindOf(kinds), process, barren)


def _walk(
    processor: Any, of_kinds: _KindOf, process: Callable[[Any], Any], barren: frozenset[type]
) -> Callable[..., Any]:
    """moto's `DepthFirstTraverser.traverse_node_recursively` for one processor, line for line, with its
    class map bound, the class checks answered once per type, the per-child hook called only when the
    processor has one (the base's does nothing), and no walk below a node of a `barren` class."""
    hook = _resolving_hook(processor) or processor.pre_processing_of_child
    has_hook = _has_hook(processor)
    node_types = _is_node.answers
    kind_answers = of_kinds.answers

    def walk_node(node: Any, child_id: int) -> Any:
        parent_node = node.parent
        children = node.children
        kind = type(node)
        if children is not None and kind not in barren:
            for i, child_node in enumerate(children):
                if has_hook:
                    hook(node, i)
                # a child that is no node (a name, a value) walks to itself: not called
                is_node = node_types.get(type(child_node))
                if is_node is None:
                    is_node = _is_node(child_node)
                if is_node:
                    walk_node(child_node, i)
        processed = kind_answers.get(kind)
        if processed is None:
            processed = of_kinds(node)
        if processed:
            node = process(node)
            node.parent = parent_node
            if parent_node:
                parent_node.children[child_id] = node
        return node

    def walk(node: Any, child_id: int = -1) -> Any:
        is_node = node_types.get(type(node))
        if is_node is None:
            is_node = _is_node(node)
        return walk_node(node, child_id) if is_node else node

    return walk


_is_action = _KindOf(
    (UpdateExpressionSetAction, UpdateExpressionRemoveAction, UpdateExpressionDeleteAction, UpdateExpressionAddAction)
)


def _resolving_hook(processor: Any) -> Callable[[Any, int], None] | None:
    """moto's `ExpressionAttributeResolvingProcessor.pre_processing_of_child` (resolve a value, not the path
    an action sets) with its class check answered once per type: called for every child of every node, its
    `isinstance` against four ABCs was most of that processor's walk."""
    if type(processor).pre_processing_of_child is not ExpressionAttributeResolvingProcessor.pre_processing_of_child:
        return None
    answers = _is_action.answers

    def pre_processing_of_child(parent_node: Any, child_id: int) -> None:
        is_action = answers.get(type(parent_node))
        if is_action is None:
            is_action = _is_action(parent_node)
        if is_action:
            processor.resolving = child_id != 0

    return pre_processing_of_child


class CachedUpdateExpressionParser(UpdateExpressionParser):
    """What moto's request handlers call `UpdateExpressionParser` (only its `make`, whose tree they read)."""

    @classmethod
    def make(cls, expression_str: str) -> UpdateExpression:
        return parse_update_expression(expression_str)


def install() -> None:
    """moto's DynamoDB request handlers parse update expressions through the cache."""
    import moto.dynamodb.responses

    moto.dynamodb.responses.UpdateExpressionParser = CachedUpdateExpressionParser


_CONDITIONS_MAX = 4096
_MISSING = object()
# (condition text, its attribute names) -> (the operator parsed, the values it read: (name, repr of the value))
_conditions: dict[tuple[str, Any], tuple[Any, tuple[tuple[str, Any], ...]]] = {}


def parse_condition(expression: str | None, names: dict[str, str] | None, values: dict[str, Any] | None) -> Any:
    """What moto's `get_filter_expression(expression, names, values)` returns, parsed once per text, names and
    values it reads (a condition text parses to the same operator whatever values it does not name; a value is
    the same if its `repr` is: same keys in the same order, same types).

    A condition takes 30-90 µs to parse; a transaction's condition was parsed twice per action (the check,
    then the write's own). Evaluating an operator changes nothing in it (moto's `Op`/`Func`: `expr(item)` only
    reads), so one is shared; it is parsed from a copy of the values, so no caller's request is kept in it.
    A failing parse is not remembered: it fails again, as moto's would."""
    if not expression:
        return get_filter_expression(expression, names, values)
    key = (expression, None if names is None else tuple(sorted(names.items())))
    found = _conditions.get(key)
    if found is not None:
        operator, read = found
        if all(repr((values or {}).get(name, _MISSING)) == value for name, value in read):
            return operator
    private = None if values is None else _Reading(copy.deepcopy(values))
    operator = create_condition_expression_parser(expression, names, private).parse()
    read = () if private is None else tuple((name, repr(dict.__getitem__(private, name))) for name in private.read)
    if len(_conditions) >= _CONDITIONS_MAX:
        _conditions.clear()
    _conditions[key] = (operator, read)
    return operator


class _Reading(dict[str, Any]):
    """The values a parse was given, noting the names it looked up (moto's parser reads them by `[]`)."""

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__(values)
        self.read: dict[str, None] = {}

    def __getitem__(self, name: str) -> Any:
        self.read[name] = None
        return super().__getitem__(name)
