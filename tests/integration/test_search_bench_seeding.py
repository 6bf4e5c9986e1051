"""The search benchmark's world, seeded in bulk (`benchmarks.search.seed_profiles` and `seed_index`), is the one
the product makes: the profiles as a PutItem leaves them, and the index items the search function's `on_change`
writes from the users table's stream records (routed as Lambda delivers them); and the bulk seeding itself
leaves no stream record for anyone to take as a new user."""

import json
import random
from datetime import datetime
from typing import Any

from benchmarks.search import make_people, seed_index, seed_profiles
from functions.search import consumers as search_index
from local.state.backends import export_table
from pinhole.search.dal import SearchModel
from pinhole.search.logic import search_users
from pinhole.shared.caller import Caller
from pinhole.shared.clock import utc_now
from pinhole.users.dal import UserModel
from tests.support.events import FakeLambdaContext
from tests.support.streams import StreamTap, routed_event

PEOPLE = 40


def _items(table_name: str) -> list[str]:
    return sorted(json.dumps(item, sort_keys=True) for item in export_table(table_name))


def _world() -> dict[str, list[str]]:
    return {"profiles": _items(UserModel.Meta.table_name), "index": _items(SearchModel.Meta.table_name)}


def _empty_both_tables() -> None:
    for model in (SearchModel, UserModel):
        with model.batch_write() as batch:
            for item in model.scan():
                batch.delete(item)


def _indexed_through_the_stream(people: list[dict[str, Any]], now: datetime, tap: StreamTap) -> None:
    for person in people:
        UserModel(**person, email=f"{person['username']}@example.com", created_at=now).save()
    records = tap.new_records()
    assert len(records) == len(people)
    assert search_index.on_change(routed_event(records), FakeLambdaContext()) == {"batchItemFailures": []}


def test_bulk_seeded_search_world_is_the_one_the_stream_and_the_indexer_make(aws: dict[str, str]) -> None:
    # Given the benchmark's people saved as profiles and indexed from the users table's stream, as deployed
    people = make_people(random.Random(20261206), PEOPLE)
    tap = StreamTap([UserModel.Meta.table_name])
    now = utc_now()
    _indexed_through_the_stream(people, now, tap)
    by_stream = _world()
    found_by_stream = [user.username for user in search_users(Caller(user_id="x", username="x"), "ma", 20)]

    # When both tables are emptied and the same people seeded in bulk
    _empty_both_tables()
    tap.new_records()  # the deletes' records: nobody reads them here
    assert _world() == {"profiles": [], "index": []}
    assert seed_profiles(people, now) == PEOPLE
    entries = seed_index(people)

    # Then the same items, the same search answers, and no stream record of the seeding
    assert _world() == by_stream
    assert entries == len(by_stream["index"]) > PEOPLE * 10
    assert [user.username for user in search_users(Caller(user_id="x", username="x"), "ma", 20)] == found_by_stream
    assert found_by_stream
    assert tap.new_records() == []
