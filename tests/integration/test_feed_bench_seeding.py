"""The fan-out benchmark's followers, seeded in bulk (`benchmarks.feed.seed_followers`), make the world the
follow API makes: the same edges, counters and celebrity state for the fan-out to read, and no stream
record for anyone to take as a new follow."""

from typing import Any

from moto.backends import get_backend

from benchmarks.feed import seed_followers
from local.template import ACCOUNT_ID, REGION
from pinhole.feed.dal import FeedModel, FeedRepository
from pinhole.graph.dal import EdgeModel, GraphRepository, user_key
from pinhole.shared.clock import utc_now
from pinhole.users.dal import UserModel

FANS = 7


def _stream_records(table_name: str) -> int:
    table = get_backend("dynamodb")[ACCOUNT_ID][REGION].get_table(table_name)
    return len(table.stream_shard.items) if table.stream_shard is not None else 0


def _world(author: str, fans: list[str]) -> dict[str, Any]:
    """What the fan-out reads and what a reader sees, with the names made relative to the author."""
    feeds, graph = FeedRepository(), GraphRepository()
    followers, _ = graph.followers(author, 100)
    edges = [EdgeModel.get(user_key(fan), f"follows#{author}", consistent_read=True).attribute_values for fan in fans]
    return {
        "followers": sorted(listed.user_id.replace(author, "A") for listed in followers),
        "all_follower_ids": sorted(name.replace(author, "A") for name in graph.all_follower_ids(author)),
        "edges": sorted(
            (edge["pk"].replace(author, "A"), edge["sk"].replace(author, "A"), edge["gsi1pk"].replace(author, "A"))
            for edge in edges
        ),
        "edge_attributes": sorted({tuple(sorted(edge)) for edge in edges}),
        "author_counts": (UserModel.get(author).follower_count, UserModel.get(author).following_count),
        "fan_counts": sorted((UserModel.get(fan).follower_count, UserModel.get(fan).following_count) for fan in fans),
        "is_celebrity": feeds.is_celebrity(author),
        "celebrity_copies": feeds.celebrity_copies(author),
        "feed_entries": sum(FeedModel.count(fan) for fan in fans),
        "first_fan_follows_only_the_author": [listed.user_id for listed in graph.following(fans[0], 10)[0]] == [author],
    }


def test_seeded_followers_are_the_world_the_follow_api_makes_without_stream_records(aws: dict[str, str]) -> None:
    # Given an author followed through the API, as the fan-out's followers would have followed
    now = utc_now()
    by_api, api_fans = "author-api", [f"api-fan-{index}" for index in range(FANS)]
    for user_id in [by_api, *api_fans]:
        UserModel(user_id=user_id, username=user_id, email=f"{user_id}@example.com", created_at=now).save()
    graph = GraphRepository()
    for fan in api_fans:
        assert graph.follow(fan, by_api)
    edge_records, user_records = _stream_records(EdgeModel.Meta.table_name), _stream_records(UserModel.Meta.table_name)

    # When another author's followers are seeded in bulk
    seeded, seeded_fans = "author-bulk", [f"bulk-fan-{index}" for index in range(FANS)]
    seed_followers(seeded, seeded_fans)

    # Then the fan-out reads the same world (names aside), and no stream saw a new follow or user
    expected = _world(by_api, api_fans)
    assert _world(seeded, seeded_fans) == {
        **expected,
        "followers": [name.replace("api", "bulk") for name in expected["followers"]],
        "all_follower_ids": [name.replace("api", "bulk") for name in expected["all_follower_ids"]],
        "edges": [tuple(part.replace("api", "bulk") for part in edge) for edge in expected["edges"]],
    }
    assert expected["author_counts"] == (FANS, 0) and expected["is_celebrity"] is False
    assert _stream_records(EdgeModel.Meta.table_name) == edge_records
    assert _stream_records(UserModel.Meta.table_name) == user_records


def test_seeded_follows_are_written_again_with_records_afterwards(aws: dict[str, str]) -> None:
    # Given followers seeded in bulk (their stream paused meanwhile)
    seed_followers("author", ["fan-1", "fan-2"])
    before = _stream_records(EdgeModel.Meta.table_name)

    # When a follow goes through the API afterwards
    UserModel(user_id="fan-3", username="fan-3", email="fan-3@example.com", created_at=utc_now()).save()
    assert GraphRepository().follow("fan-3", "author")

    # Then its stream record is there as ever, and the author's count includes every follower
    assert _stream_records(EdgeModel.Meta.table_name) == before + 1
    assert UserModel.get("author").follower_count == 3
