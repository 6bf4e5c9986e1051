"""Grouped notifications and the unread counter, on the notifications table in moto: likes on one post
within the window fold into one notification, the badge counts what the watermark has not passed, and
unlikes, redeliveries and a closed window do what a reader of the list expects."""

from datetime import UTC, datetime, timedelta

import pytest

from pinhole.notifications.dal import NotificationModel, NotificationRepository
from pinhole.notifications.models import NotificationRecord, NotificationType
from pinhole.privacy.models import PurgeProgress, UserRef
from pinhole.privacy.purge import Purge
from pinhole.shared.clock import to_iso
from pinhole.shared.ids import id_at

WINDOW = timedelta(hours=1)
START = datetime(2026, 12, 5, 10, tzinfo=UTC)


@pytest.fixture
def store(aws: dict[str, str]) -> NotificationRepository:
    return NotificationRepository()


def record_of(actor: str, at: datetime, post: str) -> NotificationRecord:
    return NotificationRecord(
        notification_id=id_at(at),
        user_id="ann",
        type=NotificationType.LIKE,
        actor_id=actor,
        post_id=post,
        created_at=to_iso(at),
    )


def like(store: NotificationRepository, actor: str, at: datetime, post: str = "p1") -> str | None:
    stored = store.create(record_of(actor, at, post), f"post#{post}/like#{actor}", WINDOW, now=at)
    return stored.record.notification_id if stored else None


def listed(store: NotificationRepository) -> list[tuple[str | None, list[str], int]]:
    records, _ = store.page("ann", 50)
    return [(r.post_id, r.actors_newest_first, r.actor_count) for r in records]


def test_likes_on_a_post_fold_into_one_unread_notification(store: NotificationRepository) -> None:
    first = like(store, "ben", START)
    second = like(store, "cat", START + timedelta(minutes=5))
    like(store, "dan", START + timedelta(minutes=6), post="p2")

    assert listed(store) == [("p2", ["dan"], 1), ("p1", ["cat", "ben"], 2)]
    assert second is not None and second != first  # the group's notification is new: newest, unread
    assert store.unread_count("ann") == 2


def test_a_redelivered_like_changes_nothing(store: NotificationRepository) -> None:
    like(store, "ben", START)

    assert store.create(record_of("ben", START, "p1"), "post#p1/like#ben", WINDOW, now=START) is None
    assert listed(store) == [("p1", ["ben"], 1)] and store.unread_count("ann") == 1


def test_the_badge_follows_the_watermark_and_a_bump_unreads_the_group(store: NotificationRepository) -> None:
    like(store, "ben", START)
    newest = like(store, "cat", START + timedelta(minutes=1), post="p2")
    assert newest is not None
    store.mark_read("ann", newest)
    assert store.unread_count("ann") == 0

    like(store, "dan", START + timedelta(minutes=2))  # joins p1's group, read until now

    assert store.unread_count("ann") == 1
    assert listed(store)[0] == ("p1", ["dan", "ben"], 2)


def test_a_like_delivered_late_joins_its_group_in_place_by_its_time(store: NotificationRepository) -> None:
    # Given ben's like at 10:00 and cat's at 10:05 on p1, and dan's at 10:02 on p2; ann read up to cat's
    like(store, "ben", START)
    group = like(store, "cat", START + timedelta(minutes=5))
    like(store, "dan", START + timedelta(minutes=2), post="p2")
    assert group is not None
    store.mark_read("ann", group)

    # When eve's like of 10:03 on p1 reaches delivery only now (a retry)
    late = store.create(
        record_of("eve", START + timedelta(minutes=3), "p1"), "post#p1/like#eve", WINDOW, now=START + WINDOW / 2
    )

    # Then the group counts her among its actors by time, and keeps its id, place, date and read state
    assert listed(store) == [("p1", ["cat", "eve", "ben"], 3), ("p2", ["dan"], 1)]
    assert store.page("ann", 50)[0][0].notification_id == group
    assert late is not None
    assert (late.record.notification_id, late.replaces, late.read) == (group, group, True)
    assert (late.record.actor_id, late.record.created_at) == ("cat", to_iso(START + timedelta(minutes=5)))
    assert store.unread_count("ann") == 0
    # And taking her like back leaves the group as it was before
    assert store.retract("ann", NotificationType.LIKE, "post#p1/like#eve", to_iso(START + timedelta(minutes=6)))
    assert listed(store) == [("p1", ["cat", "ben"], 2), ("p2", ["dan"], 1)]


def test_an_unlike_leaves_the_group_and_the_last_one_takes_it_away(store: NotificationRepository) -> None:
    like(store, "ben", START)
    like(store, "cat", START + timedelta(minutes=1))

    assert store.retract("ann", NotificationType.LIKE, "post#p1/like#cat", to_iso(START + timedelta(minutes=2)))
    assert listed(store) == [("p1", ["ben"], 1)] and store.unread_count("ann") == 1
    assert store.retract("ann", NotificationType.LIKE, "post#p1/like#ben", to_iso(START + timedelta(minutes=3)))
    assert listed(store) == [] and store.unread_count("ann") == 0


def test_a_like_after_the_window_starts_a_new_notification(store: NotificationRepository) -> None:
    like(store, "ben", START)

    like(store, "cat", START + WINDOW + timedelta(minutes=1))

    assert listed(store) == [("p1", ["cat"], 1), ("p1", ["ben"], 1)]
    assert store.unread_count("ann") == 2


def test_a_purged_actor_leaves_every_group_and_what_they_alone_made_goes(store: NotificationRepository) -> None:
    like(store, "ben", START)
    like(store, "zed", START + timedelta(minutes=1))  # the group's newest actor: its notification names zed
    like(store, "zed", START + timedelta(minutes=2), post="p2")
    like(store, "cat", START + timedelta(minutes=3), post="p3")
    assert store.unread_count("ann") == 3

    Purge(PurgeProgress(user=UserRef(user_id="zed", username="zed"), step="notifications")).notifications_step(None)

    assert listed(store) == [("p3", ["cat"], 1), ("p1", ["ben"], 1)]
    assert store.unread_count("ann") == 2
    remembered = [item.attribute_values for item in NotificationModel.scan()]
    assert [item for item in remembered if "zed" in repr(item)] == []
    like(store, "dan", START + timedelta(minutes=4))  # the open group goes on without zed
    assert listed(store)[0] == ("p1", ["dan", "ben"], 2)


def comment(
    store: NotificationRepository, actor: str, at: datetime, restoring: bool = False
) -> NotificationRecord | None:
    record = record_of(actor, at, "p1").model_copy(update={"type": NotificationType.COMMENT, "comment_id": actor})
    stored = store.create(record, f"post#p1/comment#{actor}", WINDOW, now=at, restoring=restoring)
    return stored.record if stored else None


def test_a_moderated_comment_leaves_its_open_group_and_its_restore_brings_it_back(
    store: NotificationRepository,
) -> None:
    # Given ben's comment on ann's post, alone in its open group
    comment(store, "ben", START)
    # When a moderator removes it, then restores it within the same second (stream times are whole seconds)
    moment = START + timedelta(minutes=5)
    assert store.retract("ann", NotificationType.COMMENT, "post#p1/comment#ben", to_iso(moment), keep_history=True)
    assert (listed(store), store.unread_count("ann")) == ([], 0)
    assert comment(store, "ben", moment, restoring=True) is not None
    # Then it is back, unread
    assert (listed(store), store.unread_count("ann")) == ([("p1", ["ben"], 1)], 1)


def test_a_moderated_comment_in_a_closed_group_is_left_and_its_restore_makes_nothing_twice(
    store: NotificationRepository,
) -> None:
    # Given ben's comment in a group that closed (cat's, after the window, opened a new one)
    comment(store, "ben", START)
    comment(store, "cat", START + WINDOW + timedelta(minutes=1))
    before = (listed(store), store.unread_count("ann"))
    assert before == ([("p1", ["cat"], 1), ("p1", ["ben"], 1)], 2)
    # When a moderator removes ben's comment, then restores it
    at = START + WINDOW + timedelta(minutes=5)
    assert not store.retract("ann", NotificationType.COMMENT, "post#p1/comment#ben", to_iso(at), keep_history=True)
    assert (listed(store), store.unread_count("ann")) == before
    assert comment(store, "ben", at + timedelta(minutes=1), restoring=True) is None
    # Then the history is as it was: no second notification of ben's comment, the badge unmoved
    assert (listed(store), store.unread_count("ann")) == before
