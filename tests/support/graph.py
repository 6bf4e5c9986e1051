"""Seeding follow edges in bulk, at the storage level, for tests that need thousands of followers
(profiles and counters are beside the point there)."""

from pinhole.graph.dal import EdgeModel, follow_edge


def seed_followers(author_id: str, follower_ids: list[str]) -> None:
    with EdgeModel.batch_write() as batch:
        for follower_id in follower_ids:
            batch.save(follow_edge(follower_id, author_id))
