"""The fast DynamoDB against moto's own: seeded random operation sequences run through boto3 on both,
every answer, error and stream record compared.

Both run in one mock_aws: the fast path in the default account, moto untouched in a second account
(`local.fast_dynamodb.moto_reference_account`), each reached by its own boto3 clients (the second
through credentials of an assumed role in that account). The tables (three schemas: string keys with
two GSIs and an LSI, a hash-only table with a GSI, numeric keys with a GSI; streams of three view
types; a TTL attribute) are created in both; then each operation is sent to both and the two outcomes
compared: the response (less its metadata) or the error (code, message, cancellation reasons, the
item returned with a failed condition), or for an exception moto raises unhandled, its type. Queries
and Scans page through LastEvaluatedKey, each page compared. The streams are compared record for
record (less the random event id and the timestamp) every `checkpoint` operations and at the end, and
the tables' contents at the end.

What is generated, so that the sorted partitions, the index maintenance, the bisects and the early
stops are each put to the test: small key spaces (so writes collide), keys sharing prefixes, numbers
written differently (1, 1.0, 1e1), index keys that appear, change and disappear with updates,
sometimes of the wrong type; conditions that hold and fail; update expressions that succeed and that
fail half-way; Limits, both directions, start keys taken from earlier pages and made up; transactions
that commit, are cancelled by a condition, name an item twice or fail a write half-way; TTL sweeps
with the local cloud's own sweeper and a fake clock."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, ClassVar

import boto3
from botocore.exceptions import ClientError

from local.template import ACCOUNT_ID
from tests.support.direct_calls import answered_directly

REFERENCE_ACCOUNT = "111111111111"
REGION = "us-east-1"
STREAMS_ENDPOINT = "https://streams.dynamodb.us-east-1.amazonaws.com"

S_PARTITIONS = ["a", "b", "é", "a#1"]
S_SORTS = ["x", "x1", "x10", "x2", "xa", "y", "y#z", "z", "Z", "ü", "x/"]
N_KEYS = ["0", "1", "-1", "2.5", "10", "100", "-0.5", "1.0", "1e1"]
OWNERS = ["u1", "u2", "u3"]
STATUSES = ["new", "done", "gone"]
GROUPS = ["g1", "g2"]
TAGS = ["t1", "t2", "t3"]
NUMBERS = ["1", "2", "3", "10", "2.5", "-4", "1.0"]
# Projections of top-level names take the fast path's own projection (local/fast_dynamodb/projection.py), of every
# attribute type, in several orders, a name repeated; nested paths take moto's.
GET_PROJECTIONS = ["#t, doc.a, #k", "#k, #t, flag, nums", "doc, #t, note, list, tags, #k, #t"]
READ_PROJECTIONS = ["#p1, n, doc.b", "#p1, n, doc, tags, nums", "note, flag, list, #p1, doc"]
BATCH_GET_PROJECTIONS = ["#k, title, n", "#k, doc, tags, nums, list, note, flag", "n, note, #k, title"]

TABLES: dict[str, dict[str, Any]] = {
    "items": {
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind}
            for name, kind in [
                ("pk", "S"),
                ("sk", "S"),
                ("owner", "S"),
                ("created", "N"),
                ("status", "S"),
                ("score", "N"),
            ]
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by-owner",
                "KeySchema": [
                    {"AttributeName": "owner", "KeyType": "HASH"},
                    {"AttributeName": "created", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "by-status",
                "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
        "LocalSecondaryIndexes": [
            {
                "IndexName": "by-score",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "score", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["title"]},
            }
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    },
    "counters": {
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind}
            for name, kind in [("pk", "S"), ("group", "S"), ("rank", "N")]
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by-group",
                "KeySchema": [
                    {"AttributeName": "group", "KeyType": "HASH"},
                    {"AttributeName": "rank", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    },
    "numbers": {
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind} for name, kind in [("pk", "N"), ("sk", "N"), ("tag", "S")]
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by-tag",
                "KeySchema": [{"AttributeName": "tag", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["n"]},
            }
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "OLD_IMAGE"},
    },
}
KEYS = {"items": ("pk", "sk"), "counters": ("pk", None), "numbers": ("pk", "sk")}
# The string attributes that are a key of the table or of one of its indexes
STRING_KEY_ATTRIBUTES = {"items": ["pk", "sk", "owner", "status"], "counters": ["pk", "group"], "numbers": ["tag"]}
INDEX_KEYS = {
    "by-owner": ("items", "owner", "created"),
    "by-status": ("items", "status", None),
    "by-score": ("items", "pk", "score"),
    "by-group": ("counters", "group", "rank"),
    "by-tag": ("numbers", "tag", "sk"),
}
TTL_ATTRIBUTE = "expires"
TIMESTAMP_DIGITS = 8


class Divergence(AssertionError):
    """The fast path answered differently from moto."""


@dataclass
class Clients:
    dynamodb: Any
    streams: Any


@dataclass
class Tally:
    operations: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    errors: int = 0
    stream_records: int = 0


def outcome(call: Callable[[], Any]) -> Any:
    """What a caller sees: the response without its metadata, or the error."""
    try:
        response = call()
    except ClientError as error:
        body = error.response
        return {
            "error": body.get("Error", {}).get("Code"),
            "message": body.get("Error", {}).get("Message"),
            "reasons": body.get("CancellationReasons"),
            "item": body.get("Item"),
        }
    except Exception as error:
        return {"exception": type(error).__name__}
    response.pop("ResponseMetadata", None)
    return response


class Generator:
    """Random operations over TABLES, from one seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    # values

    def number(self) -> dict[str, str]:
        return {"N": self.rng.choice(NUMBERS)}

    def key(self, table: str) -> dict[str, Any]:
        hash_name, range_name = KEYS[table]
        if table == "numbers":
            key = {hash_name: {"N": self.rng.choice(N_KEYS[:5])}, "sk": {"N": self.rng.choice(N_KEYS)}}
            return key
        key = {hash_name: {"S": self.rng.choice(S_PARTITIONS)}}
        if range_name:
            key[range_name] = {"S": self.rng.choice(S_SORTS)}
        return key

    def maybe_wrong_type(self, value: dict[str, str]) -> dict[str, str]:
        """Now and then, an index key of the type the schema does not declare (moto does not check)."""
        if self.rng.random() < 0.03:
            kind, raw = next(iter(value.items()))
            return {"S": raw} if kind == "N" else {"N": str(len(raw))}
        return value

    def value(self) -> dict[str, Any]:
        rng = self.rng
        kind = rng.choice(["S", "S", "N", "N", "BOOL", "NULL", "L", "M", "SS", "NS", "B", "BS"])
        if kind == "S":
            return {"S": rng.choice(["hello", "x", "xyz", "", "naïve", "12"])}
        if kind == "N":
            return self.number()
        if kind == "BOOL":
            return {"BOOL": rng.random() < 0.5}
        if kind == "NULL":
            return {"NULL": True}
        if kind == "L":
            return {"L": [self.number(), {"S": "e"}][: rng.randint(0, 2)]}
        if kind == "M":
            return {"M": {"a": self.number(), "b": {"L": [{"S": "q"}]}}}
        if kind == "SS":
            return {"SS": rng.sample(["p", "q", "r", "s"], rng.randint(1, 3))}
        if kind == "B":
            return {"B": rng.choice([b"\x00\xff", b"bytes", b""])}
        if kind == "BS":
            return {"BS": rng.sample([b"\x01", b"\x02\x03", b"z"], rng.randint(1, 2))}
        return {"NS": rng.sample(["1", "2", "3", "5"], rng.randint(1, 3))}

    def item(self, table: str) -> dict[str, Any]:
        rng = self.rng
        item = self.key(table)
        if table == "items":
            if rng.random() < 0.7:
                item["owner"] = {"S": rng.choice(OWNERS)}
            if rng.random() < 0.7:
                item["created"] = self.maybe_wrong_type(self.number())
            if rng.random() < 0.5:
                item["status"] = {"S": rng.choice(STATUSES)}
            if rng.random() < 0.5:
                item["score"] = self.number()
        elif table == "counters":
            if rng.random() < 0.7:
                item["group"] = {"S": rng.choice(GROUPS)}
            if rng.random() < 0.7:
                item["rank"] = self.maybe_wrong_type(self.number())
        elif rng.random() < 0.7:
            item["tag"] = {"S": rng.choice(TAGS)}
        for name in rng.sample(["title", "n", "flag", "doc", "tags", "nums", "list", "note"], rng.randint(0, 4)):
            item[name] = self.value()
        if rng.random() < 0.3:
            item[TTL_ATTRIBUTE] = {"N": str(rng.randint(95, 140))}
        return item

    # expressions

    def condition(self, table: str) -> dict[str, Any]:
        rng = self.rng
        hash_name = KEYS[table][0]
        attribute = rng.choice(["n", "title", "flag", "tags", "owner", "group", "list", "missing"])
        templates: list[tuple[str, dict[str, str], dict[str, Any]]] = [
            ("attribute_not_exists(#k)", {"#k": hash_name}, {}),
            ("attribute_exists(#k)", {"#k": hash_name}, {}),
            ("#a = :v", {"#a": attribute}, {":v": self.value()}),
            ("#a < :v", {"#a": "n"}, {":v": self.number()}),
            ("begins_with(#a, :s)", {"#a": "title"}, {":s": {"S": rng.choice(["h", "x", ""])}}),
            ("contains(#a, :s)", {"#a": rng.choice(["tags", "title"])}, {":s": {"S": rng.choice(["p", "x"])}}),
            ("size(#a) > :n", {"#a": attribute}, {":n": {"N": rng.choice(["0", "1", "2"])}}),
            ("#a IN (:v, :w)", {"#a": "n"}, {":v": self.number(), ":w": self.number()}),
            ("NOT #a = :v", {"#a": attribute}, {":v": self.value()}),
            ("attribute_type(#a, :t)", {"#a": attribute}, {":t": {"S": rng.choice(["S", "N", "SS", "M"])}}),
            ("attribute_not_exists(#k) OR #a = :v", {"#k": hash_name, "#a": "flag"}, {":v": {"BOOL": True}}),
        ]
        expression, names, values = rng.choice(templates)
        condition: dict[str, Any] = {"ConditionExpression": expression, "ExpressionAttributeNames": names}
        if values:
            condition["ExpressionAttributeValues"] = values
        return condition

    def update(self, table: str) -> dict[str, Any]:
        rng = self.rng
        index_attributes = {
            "items": ["owner", "created", "status", "score"],
            "counters": ["group", "rank"],
            "numbers": ["tag"],
        }[table]
        clauses: dict[str, list[str]] = {"SET": [], "REMOVE": [], "ADD": [], "DELETE": []}
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        used: set[str] = set()
        for index in range(rng.randint(1, 3)):
            kind = rng.choice(
                ["set", "set", "set_index", "remove", "remove_index", "add", "increment", "append", "nested", "delete"]
            )
            attribute = {
                "set": rng.choice(["title", "note", "flag"]),
                "set_index": rng.choice(index_attributes),
                "remove": rng.choice(["title", "note", "n", "missing"]),
                "remove_index": rng.choice(index_attributes),
                "add": rng.choice(["n", "tags"]),
                "increment": "n",
                "append": "list",
                "nested": "doc",
                "delete": "tags",
            }[kind]
            if attribute in used and rng.random() < 0.8:
                continue
            used.add(attribute)
            name, value = f"#a{index}", f":v{index}"
            names[name] = attribute
            if kind in ("set", "set_index"):
                if attribute in ("owner", "status", "group", "tag"):
                    pool = {"owner": OWNERS, "status": STATUSES, "group": GROUPS, "tag": TAGS}[attribute]
                    values[value] = {"S": rng.choice(pool)}
                elif attribute in ("created", "rank", "score"):
                    values[value] = self.maybe_wrong_type(self.number())
                else:
                    values[value] = self.value()
                clauses["SET"].append(f"{name} = {value}")
            elif kind in ("remove", "remove_index"):
                clauses["REMOVE"].append(name)
            elif kind == "add":
                values[value] = self.number() if attribute == "n" else {"SS": ["p", "z"]}
                clauses["ADD"].append(f"{name} {value}")
            elif kind == "increment":
                if rng.random() < 0.7:
                    values[value], values[f":z{index}"] = self.number(), {"N": "0"}
                    clauses["SET"].append(f"{name} = if_not_exists({name}, :z{index}) + {value}")
                else:  # fails when the attribute is missing or not a number
                    values[value] = self.number()
                    clauses["SET"].append(f"{name} = {name} + {value}")
            elif kind == "append":
                values[value], values[f":e{index}"] = {"L": [{"S": "more"}]}, {"L": []}
                clauses["SET"].append(f"{name} = list_append(if_not_exists({name}, :e{index}), {value})")
            elif kind == "nested":  # fails unless doc is a map
                names[f"#b{index}"] = "a"
                values[value] = self.number()
                clauses["SET"].append(f"{name}.#b{index} = {value}")
            else:
                values[value] = {"SS": ["p"]}
                clauses["DELETE"].append(f"{name} {value}")
        if not any(clauses.values()):
            names["#t"] = "title"
            values[":t"] = {"S": "fallback"}
            clauses["SET"].append("#t = :t")
        expression = " ".join(f"{verb} {', '.join(parts)}" for verb, parts in clauses.items() if parts)
        update: dict[str, Any] = {"UpdateExpression": expression, "ExpressionAttributeNames": names}
        if values:
            update["ExpressionAttributeValues"] = values
        return update

    def with_condition(self, table: str, request: dict[str, Any], probability: float) -> dict[str, Any]:
        if self.rng.random() >= probability:
            return request
        condition = self.condition(table)
        names = {**request.get("ExpressionAttributeNames", {}), **condition.pop("ExpressionAttributeNames")}
        values = {**request.get("ExpressionAttributeValues", {}), **condition.pop("ExpressionAttributeValues", {})}
        merged = {**request, **condition, "ExpressionAttributeNames": names}
        if values:
            merged["ExpressionAttributeValues"] = values
        return merged

    # key conditions

    def range_condition(
        self, attribute: str, pool_value: Callable[[], dict[str, Any]], is_string: bool
    ) -> tuple[str, dict[str, Any]]:
        rng = self.rng
        operators = ["=", "<", "<=", ">", ">=", "between"] + (["begins_with"] if is_string else [])
        operator = rng.choice(operators)
        if operator == "between":
            low, high = pool_value(), pool_value()
            return "#r BETWEEN :lo AND :hi", {":lo": low, ":hi": high}
        if operator == "begins_with":
            return "begins_with(#r, :r)", {":r": {"S": rng.choice(["x", "x1", "y", "", "ü", "z"])}}
        return f"#r {operator} :r", {":r": pool_value()}


class Differential:
    """Runs operations on both implementations and compares what each caller sees."""

    def __init__(self, fast: Clients, reference: Clients, seed: int) -> None:
        self.fast = fast
        self.reference = reference
        self.gen = Generator(seed)
        self.rng = self.gen.rng
        self.seed = seed
        self.tally = Tally()
        self.clock = 100.0
        self.step = 0
        self.stream_positions: dict[tuple[int, str], str] = {}

    def same(self, operation: str, request: dict[str, Any]) -> tuple[Any, Any]:
        """Sends the request to both; raises Divergence unless the outcomes are equal."""
        fast = outcome(lambda: getattr(self.fast.dynamodb, operation)(**request))
        reference = outcome(lambda: getattr(self.reference.dynamodb, operation)(**request))
        self.tally.requests += 1
        self.tally.errors += "error" in reference or "exception" in reference
        if fast != reference:
            raise Divergence(
                f"seed {self.seed}, step {self.step}: {operation} answered differently\n"
                f"request:   {request!r}\nfast:      {fast!r}\nreference: {reference!r}"
            )
        return fast, reference

    # operations

    def put(self) -> None:
        table = self.rng.choice(list(TABLES))
        request: dict[str, Any] = {"TableName": table, "Item": self.gen.item(table)}
        request = self.gen.with_condition(table, request, 0.4)
        if self.rng.random() < 0.4:
            request["ReturnValues"] = "ALL_OLD"
        if self.rng.random() < 0.3:
            request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        self.same("put_item", request)

    def update(self) -> None:
        table = self.rng.choice(list(TABLES))
        request = {"TableName": table, "Key": self.gen.key(table), **self.gen.update(table)}
        request = self.gen.with_condition(table, request, 0.3)
        request["ReturnValues"] = self.rng.choice(["NONE", "ALL_OLD", "ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"])
        if self.rng.random() < 0.2:
            request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        self.same("update_item", request)

    def delete(self) -> None:
        table = self.rng.choice(list(TABLES))
        request: dict[str, Any] = {"TableName": table, "Key": self.gen.key(table)}
        request = self.gen.with_condition(table, request, 0.4)
        if self.rng.random() < 0.5:
            request["ReturnValues"] = "ALL_OLD"
        self.same("delete_item", request)

    def get(self) -> None:
        table = self.rng.choice(list(TABLES))
        request: dict[str, Any] = {"TableName": table, "Key": self.gen.key(table)}
        if self.rng.random() < 0.3:
            request["ProjectionExpression"] = self.rng.choice(GET_PROJECTIONS)
            request["ExpressionAttributeNames"] = {"#t": "title", "#k": KEYS[table][0]}
        if self.rng.random() < 0.3:
            request["ConsistentRead"] = True
        self.same("get_item", request)

    def query(self) -> None:
        rng = self.rng
        target = rng.choice(
            ["items", "items", "numbers", "counters", "by-owner", "by-status", "by-score", "by-group", "by-tag"]
        )
        if target in INDEX_KEYS:
            table, hash_name, range_name = INDEX_KEYS[target]
        else:
            table, (hash_name, range_name) = target, KEYS[target]
        names = {"#h": hash_name}
        values: dict[str, Any] = {":h": self._hash_value(table, hash_name)}
        expression = "#h = :h"
        if range_name and rng.random() < 0.6:
            is_string = range_name == "sk" and table == "items"
            condition, range_values = self.gen.range_condition(
                range_name, lambda: self._range_value(table, range_name), is_string
            )
            names["#r"] = range_name
            values.update(range_values)
            expression += f" AND {condition}"
        request: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": rng.random() < 0.5,
        }
        if target in INDEX_KEYS:
            request["IndexName"] = target
        self._read_options(request, table)
        self._paginate("query", request, table)

    def scan(self) -> None:
        rng = self.rng
        table = rng.choice(list(TABLES))
        request: dict[str, Any] = {"TableName": table}
        if rng.random() < 0.15:
            request["IndexName"] = rng.choice([name for name, spec in INDEX_KEYS.items() if spec[0] == table] or [None])
            if request["IndexName"] is None:
                del request["IndexName"]
        if rng.random() < 0.2:
            request["TotalSegments"] = 3
            request["Segment"] = rng.randint(0, 2)
        self._read_options(request, table)
        self._paginate("scan", request, table)

    def batch_get(self) -> None:
        rng = self.rng
        items: dict[str, Any] = {}
        for table in rng.sample(list(TABLES), rng.randint(1, 2)):
            keys: list[dict[str, Any]] = []
            for _ in range(rng.randint(1, 6)):
                key = self.gen.key(table)
                if key not in keys:
                    keys.append(key)
            items[table] = {"Keys": keys}
            if rng.random() < 0.3:
                items[table]["ProjectionExpression"] = rng.choice(BATCH_GET_PROJECTIONS)
                items[table]["ExpressionAttributeNames"] = {"#k": KEYS[table][0]}
        self.same("batch_get_item", {"RequestItems": items})

    def batch_write(self) -> None:
        rng = self.rng
        items: dict[str, list[dict[str, Any]]] = {}
        for table in rng.sample(list(TABLES), rng.randint(1, 2)):
            requests: list[dict[str, Any]] = []
            seen: list[dict[str, Any]] = []
            for _ in range(rng.randint(1, 8)):
                if rng.random() < 0.7:
                    item = self.gen.item(table)
                    key = {name: item[name] for name in KEYS[table] if name}
                    if rng.random() < 0.08:  # a table or index key left empty: refused, naming which
                        item[rng.choice(STRING_KEY_ATTRIBUTES[table])] = {"S": ""}
                    request = {"PutRequest": {"Item": item}}
                else:
                    key = self.gen.key(table)
                    request = {"DeleteRequest": {"Key": key}}
                if key in seen and rng.random() < 0.9:
                    continue
                seen.append(key)
                requests.append(request)
                if rng.random() < 0.05:  # the very same request twice: refused as duplicates
                    requests.append(request)
            items[table] = requests
        puts = [request for requests in items.values() for request in requests if "PutRequest" in request]
        if len(items) == 2 and puts and rng.random() < 0.2:
            # the same item put into both tables: moto compares items, not tables with their keys
            for requests in items.values():
                if puts[0] not in requests:
                    requests.append(puts[0])
        self.same("batch_write_item", {"RequestItems": items})

    def transact_write(self) -> None:
        rng = self.rng
        actions: list[dict[str, Any]] = []
        targets: list[tuple[str, dict[str, Any]]] = []
        for _ in range(rng.randint(1, 5)):
            table = rng.choice(list(TABLES))
            kind = rng.choice(["Put", "Update", "Update", "Delete", "ConditionCheck"])
            if kind == "Put":
                item = self.gen.item(table)
                key = {name: item[name] for name in KEYS[table] if name}
                action: dict[str, Any] = {"TableName": table, "Item": item}
            else:
                key = self.gen.key(table)
                action = {"TableName": table, "Key": key}
                if kind == "Update":
                    action.update(self.gen.update(table))
            if (table, key) in targets and rng.random() < 0.85:
                continue
            targets.append((table, key))
            action = self.gen.with_condition(table, action, 1.0 if kind == "ConditionCheck" else 0.35)
            if "ConditionExpression" in action and rng.random() < 0.3:
                action["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            actions.append({kind: action})
        self.same("transact_write_items", {"TransactItems": actions})

    def transact_get(self) -> None:
        rng = self.rng
        gets: list[dict[str, Any]] = []
        for _ in range(rng.randint(1, 5)):
            table = rng.choice(list(TABLES))
            gets.append({"Get": {"TableName": table, "Key": self.gen.key(table)}})
        self.same("transact_get_items", {"TransactItems": gets})

    def ttl_sweep(self) -> None:
        """The local cloud's TTL sweeper, with a clock moved on, on both; then the streams compared."""
        from local.pumps.ttl_sweeper import TtlSweeper

        self.clock += self.rng.uniform(1, 15)
        swept = {}
        for side, clients, account in (
            ("fast", self.fast, ACCOUNT_ID),
            ("reference", self.reference, REFERENCE_ACCOUNT),
        ):
            tables = [
                SimpleNamespace(name=name, key_names=[key for key in KEYS[name] if key], ttl_attribute=TTL_ATTRIBUTE)
                for name in TABLES
            ]
            sweeper = TtlSweeper(tables, clients.dynamodb, clock=lambda: self.clock, account_id=account)  # type: ignore[arg-type]
            swept[side] = [sweeper.sweep(table) for table in sweeper.tables]
        if swept["fast"] != swept["reference"]:
            raise Divergence(f"seed {self.seed}, step {self.step}: TTL sweeps deleted {swept}")
        self.compare_streams()

    # helpers

    def _hash_value(self, table: str, hash_name: str) -> dict[str, Any]:
        pools = {"owner": OWNERS, "status": STATUSES, "group": GROUPS, "tag": TAGS}
        if hash_name in pools:
            return {"S": self.rng.choice(pools[hash_name])}
        if table == "numbers":
            return {"N": self.rng.choice(N_KEYS[:5])}
        return {"S": self.rng.choice(S_PARTITIONS)}

    def _range_value(self, table: str, range_name: str) -> dict[str, Any]:
        if range_name == "sk" and table == "items":
            if self.rng.random() < 0.03:
                return {"N": "1"}
            return {"S": self.rng.choice([*S_SORTS, "x0", "xz", "w"])}
        if self.rng.random() < 0.03:
            return {"S": "1"}
        return {"N": self.rng.choice([*N_KEYS, "5", "-10"])}

    def _read_options(self, request: dict[str, Any], table: str) -> None:
        rng = self.rng
        if rng.random() < 0.5:
            request["Limit"] = rng.randint(1, 4)
        if rng.random() < 0.3:
            condition = self.gen.condition(table)
            request["FilterExpression"] = condition["ConditionExpression"]
            request.setdefault("ExpressionAttributeNames", {}).update(condition["ExpressionAttributeNames"])
            if condition.get("ExpressionAttributeValues"):
                request.setdefault("ExpressionAttributeValues", {}).update(condition["ExpressionAttributeValues"])
        if rng.random() < 0.15:
            request["Select"] = "COUNT"
        elif rng.random() < 0.2:
            request["ProjectionExpression"] = rng.choice(READ_PROJECTIONS)
            request.setdefault("ExpressionAttributeNames", {})["#p1"] = "title"
        if rng.random() < 0.1:
            request["ConsistentRead"] = True
        if rng.random() < 0.15:
            request["ExclusiveStartKey"] = self._made_up_start_key(request, table)

    def _made_up_start_key(self, request: dict[str, Any], table: str) -> dict[str, Any]:
        """A start key no page returned: a random item's key (and index keys), not necessarily stored."""
        item = self.gen.item(table)
        key = {name: item[name] for name in KEYS[table] if name}
        index = request.get("IndexName")
        if index:
            _, hash_name, range_name = INDEX_KEYS[index]
            key[hash_name] = item.get(hash_name) or self._hash_value(table, hash_name)
            if range_name:
                key[range_name] = item.get(range_name) or self._range_value(table, range_name)
        return key

    def _paginate(self, operation: str, request: dict[str, Any], table: str) -> None:
        for _ in range(30):
            response, _ = self.same(operation, request)
            start = response.get("LastEvaluatedKey")
            if not start:
                return
            request = {**request, "ExclusiveStartKey": start}

    def compare_streams(self) -> None:
        fast, reference = self._records(self.fast), self._records(self.reference)
        self.tally.stream_records += sum(len(records) for records in reference.values())
        for table in TABLES:
            sizes = [
                (mine["dynamodb"].pop("SizeBytes"), theirs["dynamodb"].pop("SizeBytes"))
                for mine, theirs in zip(fast[table], reference[table], strict=False)
            ]
            # moto measures a record as JSON with its creation time in it: the time's digits vary.
            if any(abs(mine - theirs) > TIMESTAMP_DIGITS for mine, theirs in sizes):
                raise Divergence(f"seed {self.seed}, step {self.step}: stream of {table}: SizeBytes {sizes}")
            if fast[table] != reference[table]:
                first = next(
                    (
                        index
                        for index, (mine, theirs) in enumerate(zip(fast[table], reference[table], strict=False))
                        if mine != theirs
                    ),
                    min(len(fast[table]), len(reference[table])),
                )
                raise Divergence(
                    f"seed {self.seed}, step {self.step}: stream of {table} differs at record {first} "
                    f"(fast {len(fast[table])} records, reference {len(reference[table])})\n"
                    f"fast:      {fast[table][first : first + 2]!r}\nreference: {reference[table][first : first + 2]!r}"
                )

    def _records(self, clients: Clients) -> dict[str, list[dict[str, Any]]]:
        """The records written since the last comparison (a record, once written, never changes: a
        cancelled transaction's records are taken back before anyone can read them)."""
        records = {}
        for table in TABLES:
            arn = clients.dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
            shard = clients.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
            after = self.stream_positions.get((id(clients), table))
            where = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
                if after
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            iterator = clients.streams.get_shard_iterator(StreamArn=arn, ShardId=shard, **where)["ShardIterator"]
            found: list[dict[str, Any]] = []
            while iterator:
                page = clients.streams.get_records(ShardIterator=iterator, Limit=1000)
                found += page["Records"]
                if not page["Records"]:
                    break
                iterator = page.get("NextShardIterator")
            if found:
                self.stream_positions[(id(clients), table)] = found[-1]["dynamodb"]["SequenceNumber"]
            for record in found:
                record.pop("eventID")
                record["dynamodb"].pop("ApproximateCreationDateTime")
            records[table] = found
        return records

    def compare_contents(self) -> None:
        for table in TABLES:
            self._paginate("scan", {"TableName": table}, table)
            fast = self.fast.dynamodb.describe_table(TableName=table)["Table"]["ItemCount"]
            reference = self.reference.dynamodb.describe_table(TableName=table)["Table"]["ItemCount"]
            if fast != reference:
                raise Divergence(f"seed {self.seed}: {table} holds {fast} items, moto's {reference}")

    WEIGHTS: ClassVar[dict[str, int]] = {
        "put": 18,
        "update": 18,
        "delete": 7,
        "get": 6,
        "query": 20,
        "scan": 5,
        "batch_get": 4,
        "batch_write": 6,
        "transact_write": 10,
        "transact_get": 3,
        "ttl_sweep": 2,
    }

    def run(self, operations: int, checkpoint: int = 50) -> Tally:
        names, weights = zip(*self.WEIGHTS.items(), strict=True)
        for self.step in range(operations):
            name = self.rng.choices(names, weights)[0]
            getattr(self, name)()
            self.tally.operations[name] += 1
            if (self.step + 1) % checkpoint == 0:
                self.compare_streams()
        self.compare_streams()
        self.compare_contents()
        return self.tally


@contextmanager
def both_implementations(direct: bool = False) -> Iterator[tuple[Clients, Clients]]:
    """A mock_aws holding the fast path (default account) and moto's own (REFERENCE_ACCOUNT), with TABLES
    created in both; their clients. `direct`: the fast path's calls answered as the local cloud answers them."""
    from moto import mock_aws

    from local.fast_dynamodb import install, moto_reference_account

    install()
    with mock_aws(), moto_reference_account(REFERENCE_ACCOUNT):
        credentials = boto3.client("sts", region_name=REGION).assume_role(
            RoleArn=f"arn:aws:iam::{REFERENCE_ACCOUNT}:role/reference", RoleSessionName="differential"
        )["Credentials"]
        as_reference = {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        }
        fast = Clients(
            boto3.client("dynamodb", region_name=REGION),
            boto3.client("dynamodbstreams", region_name=REGION, endpoint_url=STREAMS_ENDPOINT),
        )
        reference = Clients(
            boto3.client("dynamodb", region_name=REGION, **as_reference),
            boto3.client("dynamodbstreams", region_name=REGION, endpoint_url=STREAMS_ENDPOINT, **as_reference),
        )
        if direct:
            answered_directly(fast.dynamodb, fast.streams, reference.dynamodb, reference.streams)
        for clients in (fast, reference):
            for name, schema in TABLES.items():
                clients.dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **schema)
                clients.dynamodb.update_time_to_live(
                    TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
                )
        yield fast, reference


def run_seed(seed: int, operations: int, checkpoint: int = 50, direct: bool = False) -> Tally:
    with both_implementations(direct) as (fast, reference):
        return Differential(fast, reference, seed).run(operations, checkpoint)
