"""Seeding follow edges in bulk, at the storage level, for tests that need thousands of followers
(profiles and counters are beside the point there)."""

from pinhole.graph.dal import EdgeModel, user_key
from pinhole.shared.ids import new_id


def seed_followers(author_id: str, follower_ids: list[str]) -> None:
    with EdgeModel.batch_write() as batch:
        for follower_id in follower_ids:
            batch.save(
                EdgeModel(
                    pk=user_key(follower_id),
                    sk=f"follows#{author_id}",
                    gsi1pk=f"followers#{author_id}",
                    gsi1sk=new_id(),
                    source_id=follower_id,
                    target_id=author_id,
                    created_at="2026-11-22T00:00:00.000Z",
                )
            )
