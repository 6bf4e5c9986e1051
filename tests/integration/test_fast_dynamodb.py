"""What the fast DynamoDB (local/fast_dynamodb) does beyond answering as moto does (that is the
differential test's): it refuses to run on a moto it was not written for, reads an index or a
partition without scanning the table, cancels a transaction without copying a table, lets
operations on different tables run at once, and in eventual-consistency mode lags GSI reads and
cancels conflicting transactions as DynamoDB does."""

import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models.table import Table

from local.fast_dynamodb import Consistency, configure, install, moto_contract, storage, transactions
from local.fast_dynamodb.locking import locked
from local.fast_dynamodb.ordering import Ordering
from local.fast_dynamodb.storage import FastTable
from local.state.backends import import_table

TABLE = "fast-under-test"
OTHER = "fast-other"


def _create(client: Any, name: str) -> None:
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "owner", "AttributeType": "S"},
            {"AttributeName": "score", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-owner",
                "KeySchema": [
                    {"AttributeName": "owner", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "by-score",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "score", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


@pytest.fixture
def client() -> Iterator[Any]:
    install()
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        _create(dynamodb, TABLE)
        _create(dynamodb, OTHER)
        yield dynamodb
    configure(Consistency())


@pytest.fixture
def eventual() -> Iterator[Consistency]:
    settings = Consistency("eventual", gsi_lag_ms=200, transaction_window_ms=400)
    configure(settings)
    yield settings
    configure(Consistency())


def _item(pk: str, sk: str, owner: str = "u1", score: int = 0) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}, "owner": {"S": owner}, "score": {"N": str(score)}}


def _fill(client: Any, partitions: int, per_partition: int) -> None:
    for p in range(partitions):
        requests = [
            {"PutRequest": {"Item": _item(f"p{p}", f"s{s:04d}", owner=f"u{s % 3}", score=s % 7)}}
            for s in range(per_partition)
        ]
        for start in range(0, len(requests), 25):
            client.batch_write_item(RequestItems={TABLE: requests[start : start + 25]})


def _by_owner_page(client: Any, owner: str, limit: int, start: Any = None) -> dict[str, Any]:
    request: dict[str, Any] = {
        "TableName": TABLE,
        "IndexName": "by-owner",
        "KeyConditionExpression": "#o = :o AND begins_with(sk, :p)",
        "ExpressionAttributeNames": {"#o": "owner"},
        "ExpressionAttributeValues": {":o": {"S": owner}, ":p": {"S": "s00"}},
        "Limit": limit,
    }
    if start:
        request["ExclusiveStartKey"] = start
    response: dict[str, Any] = client.query(**request)
    return response


def test_a_changed_moto_function_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(moto_contract.FINGERPRINTS, "Table.query", "0000000000000000")

    with pytest.raises(moto_contract.MotoChanged, match=r"Table\.query changed"):
        moto_contract.check()


def test_queries_read_the_partition_and_the_index_never_the_whole_table(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(client, partitions=20, per_partition=60)

    def scanned(*_: object, **__: object) -> None:
        raise AssertionError("a Query read the whole table")

    for name in ("all_items", "has_idx_items", "sorted_items"):
        monkeypatch.setattr(Table, name, scanned)
    pages, start, owned = 0, None, []
    while True:
        page = _by_owner_page(client, "u1", limit=7, start=start)
        owned += [(item["pk"]["S"], item["sk"]["S"]) for item in page["Items"]]
        pages += 1
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    by_score = client.query(
        TableName=TABLE,
        IndexName="by-score",
        KeyConditionExpression="pk = :p AND score BETWEEN :lo AND :hi",
        ExpressionAttributeValues={":p": {"S": "p3"}, ":lo": {"N": "2"}, ":hi": {"N": "3"}},
        ScanIndexForward=False,
    )
    newest = client.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :p AND sk < :s",
        ExpressionAttributeValues={":p": {"S": "p7"}, ":s": {"S": "s0010"}},
        ScanIndexForward=False,
        Limit=3,
    )

    expected = sorted(
        ((f"p{p}", f"s{s:04d}") for p in range(20) for s in range(60) if s % 3 == 1), key=lambda key: (key[1], key[0])
    )
    assert owned == expected and pages == len(expected) // 7 + 1
    assert [int(item["score"]["N"]) for item in by_score["Items"]] == sorted(
        (s % 7 for s in range(60) if s % 7 in (2, 3)), reverse=True
    )
    assert [item["sk"]["S"] for item in newest["Items"]] == ["s0009", "s0008", "s0007"]


def test_a_cancelled_transaction_copies_no_table_and_leaves_no_trace(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.put_item(TableName=TABLE, Item=_item("a", "1"))
    before = client.scan(TableName=TABLE)["Items"]

    def copied(*_: object) -> None:
        raise AssertionError("a transaction copied a table")

    monkeypatch.setattr(FastTable, "__deepcopy__", copied)
    with pytest.raises(client.exceptions.TransactionCanceledException) as cancelled:
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": _item("a", "2")}},
                {
                    "Update": {
                        "TableName": OTHER,
                        "Key": {"pk": {"S": "x"}, "sk": {"S": "y"}},
                        "UpdateExpression": "SET n = :n",
                        "ExpressionAttributeValues": {":n": {"N": "1"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )

    assert [reason["Code"] for reason in cancelled.value.response["CancellationReasons"]] == [
        "None",
        "None",
        "ConditionalCheckFailed",
    ]
    assert client.scan(TableName=TABLE)["Items"] == before
    assert client.scan(TableName=OTHER)["Items"] == []
    assert _stream_events(client, TABLE) == ["INSERT"]  # the first put only
    assert _stream_events(client, OTHER) == []


def _stream_events(client: Any, table: str) -> list[str]:
    streams = boto3.client("dynamodbstreams", endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com")
    arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    return [record["eventName"] for record in records]


def _table(name: str) -> Table:
    from moto.dynamodb.models import dynamodb_backends

    table: Table = dynamodb_backends["123456789012"]["us-east-1"].tables[name]
    return table


def test_an_operation_on_one_table_does_not_wait_for_another_table(client: Any) -> None:
    held, release, done = threading.Event(), threading.Event(), threading.Event()

    def hold_the_other_table() -> None:
        with locked([_table(OTHER)]):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold_the_other_table)
    holder.start()
    held.wait(10)

    def write() -> None:
        client.put_item(TableName=TABLE, Item=_item("a", "1"))
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    finished_while_held = done.wait(10)
    release.set()
    holder.join()
    writer.join()

    assert finished_while_held
    assert "Item" in client.get_item(TableName=TABLE, Key={"pk": {"S": "a"}, "sk": {"S": "1"}})


def test_strongly_consistent_transactions_on_one_item_never_conflict(client: Any) -> None:
    client.put_item(TableName=TABLE, Item=_item("counter", "c"))
    errors: list[Exception] = []

    def add(times: int) -> None:
        for _ in range(times):
            try:
                client.transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": TABLE,
                                "Key": {"pk": {"S": "counter"}, "sk": {"S": "c"}},
                                "UpdateExpression": "ADD score :one",
                                "ExpressionAttributeValues": {":one": {"N": "1"}},
                            }
                        }
                    ]
                )
            except Exception as error:
                errors.append(error)

    threads = [threading.Thread(target=add, args=(25,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    item = client.get_item(TableName=TABLE, Key={"pk": {"S": "counter"}, "sk": {"S": "c"}})["Item"]
    assert errors == []
    assert item["score"] == {"N": "100"}


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_a_gsi_read_sees_the_index_as_it_was_the_lag_ago(
    client: Any, eventual: Consistency, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _Clock()
    monkeypatch.setattr(storage, "time", clock)
    client.put_item(TableName=TABLE, Item=_item("a", "s0001", owner="u1"))
    clock.now += 0.15
    client.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "a"}, "sk": {"S": "s0001"}},
        UpdateExpression="SET #o = :o",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":o": {"S": "u2"}},
    )

    def owned_by(owner: str) -> list[str]:
        return [item["sk"]["S"] for item in _by_owner_page(client, owner, limit=10)["Items"]]

    seen_at_once = (owned_by("u1"), owned_by("u2"))
    clock.now += 0.06  # the put is 210 ms old, the update 60 ms
    seen_after_the_put = (owned_by("u1"), owned_by("u2"))
    clock.now += 0.15
    seen_after_both = (owned_by("u1"), owned_by("u2"))
    table_read = client.get_item(TableName=TABLE, Key={"pk": {"S": "a"}, "sk": {"S": "s0001"}})["Item"]
    lsi_read = client.query(
        TableName=TABLE,
        IndexName="by-score",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "a"}},
    )["Items"]

    assert seen_at_once == ([], [])
    assert seen_after_the_put == (["s0001"], [])
    assert seen_after_both == ([], ["s0001"])
    assert table_read["owner"] == {"S": "u2"}  # base-table and LSI reads do not lag
    assert [item["owner"] for item in lsi_read] == [{"S": "u2"}]


class _Window:
    """Stands in for the transaction window's sleep: the transaction stays in flight until released."""

    def __init__(self) -> None:
        self.released = threading.Event()

    def sleep(self, _: float) -> None:
        self.released.wait(10)


def _in_flight(client: Any, update: dict[str, Any]) -> tuple[threading.Thread, list[Any]]:
    """Starts a transaction in a thread and returns once it holds its items."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(client.transact_write_items(TransactItems=[{"Update": update}]))
        except Exception as error:
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 10
    while not transactions._holds and time.monotonic() < deadline:
        time.sleep(0.001)
    assert transactions._holds, "the transaction never held its item"
    return thread, outcome


def test_writes_on_an_item_held_by_an_in_flight_transaction_conflict(
    client: Any, eventual: Consistency, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = _Window()
    monkeypatch.setattr(transactions, "time", window)
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    client.put_item(TableName=TABLE, Item=_item("a", "1", score=1))
    update = {
        "TableName": TABLE,
        "Key": key,
        "UpdateExpression": "ADD score :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
    thread, outcome = _in_flight(client, update)

    read_during = client.get_item(TableName=TABLE, Key=key)["Item"]["score"]
    with pytest.raises(client.exceptions.TransactionConflictException):
        client.put_item(TableName=TABLE, Item=_item("a", "1", score=9))
    with pytest.raises(client.exceptions.TransactionCanceledException) as cancelled:
        client.transact_write_items(
            TransactItems=[{"Put": {"TableName": OTHER, "Item": _item("b", "2")}}, {"Update": update}]
        )
    with pytest.raises(client.exceptions.TransactionCanceledException) as read_cancelled:
        client.transact_get_items(TransactItems=[{"Get": {"TableName": TABLE, "Key": key}}])
    other_item = client.put_item(TableName=TABLE, Item=_item("a", "2"))
    window.released.set()
    thread.join()

    assert read_during == {"N": "1"}  # the last committed value
    assert [reason["Code"] for reason in cancelled.value.response["CancellationReasons"]] == [
        "None",
        "TransactionConflict",
    ]
    assert [reason["Code"] for reason in read_cancelled.value.response["CancellationReasons"]] == [
        "TransactionConflict"
    ]
    assert "ResponseMetadata" in other_item  # another item of the table is free
    assert not isinstance(outcome[0], Exception)
    assert client.get_item(TableName=TABLE, Key=key)["Item"]["score"] == {"N": "2"}
    assert client.scan(TableName=OTHER)["Items"] == []


def _update(client: Any, expression: str, names: dict[str, str] | None = None, sk: str = "s1") -> None:
    request: dict[str, Any] = {
        "TableName": TABLE,
        "Key": {"pk": {"S": "shape"}, "sk": {"S": sk}},
        "UpdateExpression": expression,
        "ExpressionAttributeValues": {
            name: value for name, value in {":v": {"S": "x"}, ":n": {"N": "1"}}.items() if name in expression
        },
    }
    if names is not None:
        request["ExpressionAttributeNames"] = names
    client.update_item(**request)


def test_an_update_expression_is_parsed_and_its_shape_checked_once(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.dynamodb.parsing.tokens import ExpressionTokenizer
    from moto.dynamodb.parsing.validators import ActionCountValidator

    tokenized, shape_checks = [], []
    tokenize, count_actions = ExpressionTokenizer.make_list, ActionCountValidator.verify_action_counts
    monkeypatch.setattr(ExpressionTokenizer, "make_list", lambda text: tokenized.append(text) or tokenize(text))
    monkeypatch.setattr(
        ActionCountValidator,
        "verify_action_counts",
        lambda self, node: shape_checks.append(1) or count_actions(self, node),
    )
    expression = "SET #a = :v, b = :v ADD c :n"

    _update(client, expression, {"#a": "a"}, sk="s1")  # a new item: validated twice, as moto does
    checked_first = len(shape_checks)
    for sk in ("s2", "s1"):  # another new item, then an update
        _update(client, expression, {"#a": "a"}, sk=sk)

    assert tokenized == [expression]  # the request handler and the backend share one parse
    assert checked_first > 0 and len(shape_checks) == checked_first  # no shape check after the first validation
    item = client.get_item(TableName=TABLE, Key={"pk": {"S": "shape"}, "sk": {"S": "s1"}})["Item"]
    assert item["c"] == {"N": "2"} and item["a"] == {"S": "x"} and item["b"] == {"S": "x"}


def test_an_update_expression_whose_shape_fails_fails_every_time(client: Any) -> None:
    _update(client, "SET #k = :v", {"#k": "other"})  # passes with these names...

    for _ in range(2):
        with pytest.raises(client.exceptions.ClientError, match="Cannot update attribute sk"):
            _update(client, "SET #k = :v", {"#k": "sk"})  # ...not with these: a key attribute
        with pytest.raises(client.exceptions.ClientError, match="Two document paths overlap"):
            _update(client, "SET a = :v, a = :v")
        with pytest.raises(client.exceptions.ClientError, match='The "SET" section can only be used once'):
            _update(client, "SET a = :v SET b = :v")


def test_items_put_back_from_a_snapshot_answer_as_put_items_and_make_no_stream_record(client: Any) -> None:
    # Given the same items, written to one table by PutItem and put back into the other from a snapshot
    items = [_item(f"p{p}", f"s{s:02d}", owner=f"u{s % 3}", score=s % 5) for p in range(3) for s in range(12)]
    for item in items:
        client.put_item(TableName=TABLE, Item=item)
    streams = boto3.client("dynamodbstreams", endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com")
    stream_arn = client.describe_table(TableName=OTHER)["Table"]["LatestStreamArn"]

    import_table(OTHER, items)

    # Then every read answers the same from both (partitions, both indexes, sizes in the consumed capacity)
    def answers(name: str) -> list[Any]:
        reads: list[Any] = [client.scan(TableName=name, ReturnConsumedCapacity="TOTAL")]
        for request in (
            {"IndexName": "by-owner", "KeyConditionExpression": "#k = :v", "ExpressionAttributeNames": {"#k": "owner"}},
            {"IndexName": "by-score", "KeyConditionExpression": "#k = :v", "ExpressionAttributeNames": {"#k": "pk"}},
            {"KeyConditionExpression": "#k = :v", "ExpressionAttributeNames": {"#k": "pk"}, "ScanIndexForward": False},
        ):
            value = {":v": {"S": "u1" if request.get("IndexName") == "by-owner" else "p1"}}
            reads.append(
                client.query(TableName=name, ExpressionAttributeValues=value, ReturnConsumedCapacity="TOTAL", **request)
            )
        key = {"pk": {"S": "p2"}, "sk": {"S": "s07"}}
        reads.append(client.get_item(TableName=name, Key=key, ReturnConsumedCapacity="TOTAL"))
        for read in reads:
            read.pop("ResponseMetadata")
            read["ConsumedCapacity"].pop("TableName")
        return reads

    assert answers(OTHER) == answers(TABLE)
    # And the items put back made no stream record, while a later write does
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    assert streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"] == []
    client.put_item(TableName=OTHER, Item=_item("p9", "s00"))
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    assert [r["eventName"] for r in streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]] == [
        "INSERT"
    ]


def test_partitions_put_in_bulk_are_sorted_before_their_first_read(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given partitions of 40 items put back in bulk (a restored snapshot; a benchmark's world)
    import_table(
        OTHER, [_item(f"p{p}", f"s{s:02d}", owner=f"u{s % 2}", score=s % 5) for p in range(3) for s in range(40)]
    )
    items_keyed = []
    key = Ordering.key

    def counted(self: Ordering, item: Any) -> Any:
        items_keyed.append(item)
        return key(self, item)

    monkeypatch.setattr(Ordering, "key", counted)

    # When the table and both its indexes are read for the first time
    def first_pages() -> list[list[str]]:
        pages = []
        for index, names, value in (
            ({}, {"#k": "pk"}, "p1"),
            ({"IndexName": "by-owner"}, {"#k": "owner"}, "u1"),
            ({"IndexName": "by-score"}, {"#k": "pk"}, "p2"),
        ):
            page = client.query(
                TableName=OTHER,
                KeyConditionExpression="#k = :v",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={":v": {"S": value}},
                Limit=5,
                **index,
            )
            pages.append([f"{item['pk']['S']}/{item['sk']['S']}" for item in page["Items"]])
        return pages

    first = first_pages()

    # Then no read sorted a partition (no item was keyed), and the pages are the ones moto's order gives
    assert items_keyed == []
    assert (
        first
        == first_pages()
        == [
            [f"p1/s{s:02d}" for s in range(5)],
            ["p0/s01", "p1/s01", "p2/s01", "p0/s03", "p1/s03"],
            ["p2/s00", "p2/s05", "p2/s10", "p2/s15", "p2/s20"],
        ]
    )
