"""Update expressions validated by local/fast_dynamodb/expressions.py (the tree copied by pickle, the walks that
cannot change it skipped, the resolving hook's class check memoised) update an item as moto's own
`UpdateExpressionValidator` does: the same item, or the same error, over seeded random expressions (SET with
values, arithmetic, `if_not_exists`, `list_append`, nested paths; REMOVE, ADD, DELETE; missing paths, key
attributes, wrong types) and random items, each expression validated twice (the second time without the shape
checks). Conditions parsed once per text, names and values read (`parse_condition`) hold for the items moto's
parse holds for, and fail as it fails."""

from __future__ import annotations

import copy
import random
from collections import Counter
from typing import Any

import pytest
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.parsing.executors import UpdateExpressionExecutor
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]
from moto.dynamodb.parsing.validators import UpdateExpressionValidator

from local.fast_dynamodb.expressions import FastUpdateExpressionValidator, parse_condition, parse_update_expression

NAMES = ["a", "b", "c", "d", "e"]
KINDS = ["set", "set", "sum", "minus", "if_not_exists", "append", "nested", "remove", "add", "delete"]


def _table() -> Table:
    return Table(  # type: ignore[abstract]
        "expressions",
        account_id="000000000000",
        region="us-east-1",
        schema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        attr=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
    )


def _value(rng: random.Random) -> dict[str, Any]:
    return rng.choice(
        [
            {"S": rng.choice(["x", "", "yz"])},
            {"N": rng.choice(["1", "2.5", "-3"])},
            {"L": [{"S": "p"}]},
            {"SS": ["p", "q"]},
            {"NS": ["1", "2"]},
            {"M": {"k": {"S": "v"}}},
            {"BOOL": True},
        ]
    )


def _item(rng: random.Random) -> Item:
    attrs = {"pk": {"S": "h"}, "sk": {"S": "r"}}
    attrs.update({name: _value(rng) for name in rng.sample(NAMES, rng.randint(0, len(NAMES)))})
    return Item(DynamoType({"S": "h"}), DynamoType({"S": "r"}), attrs=attrs)


def _expression(rng: random.Random) -> tuple[str, dict[str, str], dict[str, Any]]:
    clauses: dict[str, list[str]] = {"SET": [], "REMOVE": [], "ADD": [], "DELETE": []}
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    keys = (["pk"] if rng.random() < 0.1 else []) + (["#n"] if rng.random() < 0.2 else [])  # "#n": "sk" fails too
    for index, name in enumerate(rng.sample(NAMES + keys, rng.randint(1, 4))):
        if name == "#n":
            names["#n"] = rng.choice(["sk", "f"])
        value = f":v{index}"
        values[value] = _value(rng)
        other = rng.choice(NAMES)
        kind = rng.choice(KINDS)
        if kind == "set":
            clauses["SET"].append(f"{name} = {value}")
        elif kind in ("sum", "minus"):
            values[value] = {"N": "2"} if rng.random() < 0.8 else values[value]
            clauses["SET"].append(f"{name} = {other} {'+' if kind == 'sum' else '-'} {value}")
        elif kind == "if_not_exists":
            clauses["SET"].append(f"{name} = if_not_exists({other}, {value})")
        elif kind == "append":
            values[f":l{index}"] = {"L": [{"N": "7"}]}
            clauses["SET"].append(f"{name} = list_append(if_not_exists({other}, {value}), :l{index})")
        elif kind == "nested":
            clauses["SET"].append(f"{other}.k{index} = {value}")
        elif kind == "remove":
            clauses["REMOVE"].append(name)
        elif kind == "add":
            values[value] = {"N": "2"} if rng.random() < 0.6 else values[value]
            clauses["ADD"].append(f"{name} {value}")
        else:
            values[value] = {"SS": ["p"]} if rng.random() < 0.6 else values[value]
            clauses["DELETE"].append(f"{name} {value}")
    if rng.random() < 0.1:
        values.pop(rng.choice(sorted(values)))  # a value the expression names but the request does not hold
    text = " ".join(f"{clause} {', '.join(actions)}" for clause, actions in clauses.items() if actions)
    return text, names, values


def _outcome(validator_class: type, tree: Any, names: Any, values: Any, item: Item, table: Table) -> Any:
    item = copy.deepcopy(item)
    try:
        validated = validator_class(
            tree, expression_attribute_names=names, expression_attribute_values=values, item=item, table=table
        ).validate()
        validated.normalize()
        UpdateExpressionExecutor(validated, item, names).execute()
    except Exception as error:  # every error is an answer to compare
        return ("error", type(error).__name__, str(error))
    return item.to_json()


@pytest.mark.parametrize("seed", range(6))
def test_a_random_update_expression_updates_an_item_as_moto_s_validator_does(seed: int) -> None:
    # Given random expressions and items
    rng = random.Random(seed)
    table = _table()
    kinds: Counter[str] = Counter()
    for _ in range(200):
        text, names, values = _expression(rng)
        item = _item(rng)
        try:
            tree = UpdateExpressionParser.make(text)
        except Exception as error:  # a syntax error: both parsers refuse it
            with pytest.raises(type(error)):
                parse_update_expression(text)
            continue
        expected = _outcome(UpdateExpressionValidator, tree, names, values, item, table)

        # When the fast validator validates and the executor applies it, twice
        outcomes = [
            _outcome(FastUpdateExpressionValidator, parse_update_expression(text), names, values, item, table)
            for _ in range(2)
        ]

        # Then the item (or the error) is moto's
        assert outcomes == [expected, expected], text
        kinds[expected[1] if isinstance(expected, tuple) else "updated"] += 1
    assert kinds["updated"] > 40 and len(kinds) > 5  # the cases reached both outcomes, and several errors


def test_a_walk_with_nothing_to_process_is_skipped_and_one_that_can_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given processors that note each walk
    walked: list[str] = []
    original = FastUpdateExpressionValidator.__init__

    def noting(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        for processor in self.processors:
            processor.traverse = lambda node, processor=processor: (
                walked.append(type(processor).__name__),
                type(processor).traverse(processor, node),
            )[1]

    monkeypatch.setattr(FastUpdateExpressionValidator, "__init__", noting)
    table = _table()
    item = _item(random.Random(0))
    item.attrs.pop("a", None)

    # When a plain SET is validated, then one reading an attribute the item lacks
    one = {":v": {"N": "1"}}
    _outcome(FastUpdateExpressionValidator, parse_update_expression("SET b = :v"), None, one, item, table)
    plain = list(walked)
    walked.clear()
    missing = _outcome(FastUpdateExpressionValidator, parse_update_expression("SET b = a + :v"), None, one, item, table)

    # Then the plain SET skips the function and missing-path walks; the other reaches the missing path and fails
    assert "UpdateExpressionFunctionEvaluator" not in plain and "NoneExistingPathChecker" not in plain
    assert "ExecuteOperations" in plain and "ExpressionAttributeResolvingProcessor" in plain
    assert "NoneExistingPathChecker" in walked
    assert missing[:2] == ("error", "AttributeDoesNotExist")


def _verdict(parse: Any, text: str, names: Any, values: Any, items: list[Item]) -> Any:
    try:
        operator = parse(text, names, values)
        return [operator.expr(item) for item in items]
    except Exception as error:  # every error is an answer to compare
        return ("error", type(error).__name__, str(error))


@pytest.mark.parametrize("seed", range(3))
def test_a_condition_parsed_once_holds_for_the_items_moto_s_parse_holds_for(seed: int) -> None:
    # Given conditions whose texts repeat with other values (the same, equal but typed otherwise, missing, extra)
    rng = random.Random(seed)
    items = [_item(rng) for _ in range(12)]
    texts = [
        "attribute_not_exists(#n)",
        "a = :x",
        "a < :x OR attribute_exists(b)",
        "#n = :x AND begins_with(c, :y)",
        "size(d) > :x",
        "a IN (:x, :y)",
        "a BETWEEN :x AND :y",
        "contains(e, :y)",
        "attribute_type(a, :t)",
    ]
    for _ in range(300):
        text = rng.choice(texts)
        names = rng.choice([{"#n": "a"}, {"#n": "b"}, None])
        values: dict[str, Any] | None = {
            ":x": rng.choice([{"N": "1"}, {"N": "1.0"}, {"S": "x"}, {"N": "-3"}]),
            ":y": rng.choice([{"S": "x"}, {"S": "p"}, {"N": "2"}]),
            ":t": rng.choice([{"S": "N"}, {"S": "S"}, {"S": "L"}]),
            ":extra": {"S": "unused"},
        }
        if rng.random() < 0.1:
            values = None if rng.random() < 0.5 else {name: value for name, value in values.items() if name != ":x"}

        # When both parse it
        expected = _verdict(get_filter_expression, text, names, values, items)
        found = _verdict(parse_condition, text, names, values, items)

        # Then the verdicts (or the errors) are the same
        assert found == expected, (text, names, values)
