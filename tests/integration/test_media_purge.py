"""Deleted media leaves the CDN, whatever fails on the way: the posts table's REMOVE records (a deleted post,
an expired story) reach resize's `cleanup` through its routed queue, which deletes the renditions and queues
their invalidation; `invalidate` drains that queue into CloudFront. Both queues are wired as the template
wires them (batch sizes, partial batch responses, maxReceiveCount and dead-letter queues) and consumed by the
local cloud's SQS pump on moto, while S3 refuses to delete objects, SQS refuses messages and CloudFront
refuses invalidations (TooManyInvalidationsInProgress, Throttling) before it answers."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from functions.resize import handler as resize
from pinhole.resize import purge
from pinhole.resize.cdn import Cdn
from pinhole.resize.purge import Invalidator
from pinhole.shared.settings import get_settings
from tests.support.event_sources import (
    EventSources,
    InProcessFunction,
    InProcessRunner,
    QueueConsumer,
    create_queue,
    drain_queue,
    queue_mapping,
)
from tests.support.faults import PARTLY_DELETED, THROTTLING, Fault, FaultInjector, injected_faults
from tests.support.streams import routed_event, stream_record

RENDITIONS = ("large.jpg", "large_webp.webp", "medium.jpg", "medium_webp.webp", "thumb.jpg", "thumb_webp.webp")
STORY_RENDITIONS = ("story.jpg", "story_webp.webp", *RENDITIONS)


class PurgeWorld:
    """The cleanup's routed queue and the invalidations queue, each with its consumer, and the CDN."""

    def __init__(self, distribution_id: str) -> None:
        self.distribution_id = distribution_id
        self.runner = InProcessRunner()
        self.sources = EventSources(self.runner)
        settings = get_settings()
        cleanup = queue_mapping("Resize/Cleanup")
        self.cleanup_url, cleanup_dlq = create_queue(
            "resize-cleanup-routed", dead_letters_after=cleanup.max_receive_count
        )
        invalidations = queue_mapping("Resize/Invalidator", "MediaInvalidationsQueue")
        name = settings.media_invalidations_queue_url.rsplit("/", 1)[1]
        self.invalidations_url, invalidations_dlq = create_queue(
            name, dead_letters_after=invalidations.max_receive_count
        )
        assert self.invalidations_url == settings.media_invalidations_queue_url
        assert cleanup_dlq is not None and invalidations_dlq is not None
        self.dead_letters = {"cleanup": cleanup_dlq, "invalidations": invalidations_dlq}
        self.max_receives = {"cleanup": cleanup.max_receive_count, "invalidations": invalidations.max_receive_count}
        self.sources.queues += [
            QueueConsumer(InProcessFunction("ResizeCleanup", resize.cleanup), self.runner, self.cleanup_url, cleanup),
            QueueConsumer(
                InProcessFunction("ResizeInvalidator", resize.invalidate),
                self.runner,
                self.invalidations_url,
                invalidations,
            ),
        ]
        self.s3 = boto3.client("s3")

    def post_with_renditions(self, post_id: str, names: tuple[str, ...] = RENDITIONS) -> dict[str, Any]:
        """A published post whose renditions are in the media bucket; its item, as the posts table holds it."""
        keys = {name: f"posts/{post_id}/m1/{name}" for name in names}
        for key in keys.values():
            self.s3.put_object(Bucket=get_settings().media_bucket_name, Key=key, Body=b"rendition")
        renditions = {
            name.split(".")[0]: {"key": key, "width": 1, "height": 1, "content_type": "image/jpeg"}
            for name, key in keys.items()
        }
        media = {
            "media_id": "m1",
            "type": "image",
            "content_type": "image/jpeg",
            "size_bytes": 9,
            "status": "ready",
            "rendition_keys": renditions,
        }
        return {"post_id": post_id, "author_id": "alice", "status": "published", "media": {"m1": media}}

    def remove(self, *items: dict[str, Any]) -> None:
        """The posts table's REMOVE records of the items, as the router sends them to the cleanup's queue."""
        event = routed_event(
            [
                stream_record("REMOVE", {"post_id": item["post_id"]}, old=item, event_id=item["post_id"])
                for item in items
            ],
            "posts",
        )
        sqs = boto3.client("sqs")
        for record in event["Records"]:
            sqs.send_message(QueueUrl=self.cleanup_url, MessageBody=record["body"])

    def objects(self, post_id: str) -> list[str]:
        listed = self.s3.list_objects_v2(Bucket=get_settings().media_bucket_name, Prefix=f"posts/{post_id}/")
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def invalidated(self) -> list[list[str]]:
        """The paths of each invalidation the distribution has had."""
        cloudfront = boto3.client("cloudfront")
        listed = cloudfront.list_invalidations(DistributionId=self.distribution_id)["InvalidationList"]
        return [
            sorted(
                cloudfront.get_invalidation(DistributionId=self.distribution_id, Id=item["Id"])["Invalidation"][
                    "InvalidationBatch"
                ]["Paths"].get("Items", [])
            )
            for item in listed.get("Items", [])
        ]

    def given_up(self) -> dict[str, list[dict[str, Any]]]:
        return {name: drain_queue(url) for name, url in self.dead_letters.items()}


def _distribution() -> str:
    s3, cloudfront = boto3.client("s3"), boto3.client("cloudfront")
    s3.create_bucket(Bucket="media-origin")
    origin = {
        "Id": "media",
        "DomainName": "media-origin.s3.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
    }
    created = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": "media",
            "Comment": "media",
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [origin]},
            "DefaultCacheBehavior": {"TargetOriginId": "media", "ViewerProtocolPolicy": "https-only"},
        }
    )
    return str(created["Distribution"]["Id"])


@pytest.fixture
def world(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> PurgeWorld:
    distribution_id = _distribution()
    # What CloudFront refuses comes back at once instead of after 30 s, 60 s...: the waits are not the point
    monkeypatch.setattr(resize, "invalidator", Invalidator(cdn=Cdn(distribution_id=distribution_id), first_delay_s=0))
    return PurgeWorld(distribution_id)


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultInjector]:
    with injected_faults(monkeypatch) as injector:
        yield injector


def test_cloudfront_refusing_then_answering_ends_in_one_invalidation_of_every_deleted_rendition(
    world: PurgeWorld, faults: FaultInjector
) -> None:
    # Given two deleted posts and an expired story, all with renditions in the media bucket
    items = [
        world.post_with_renditions("p1"),
        world.post_with_renditions("p2"),
        world.post_with_renditions("s1", STORY_RENDITIONS),
    ]
    world.remove(*items)

    # When CloudFront has too many invalidations in progress, twice, then throttles, then answers
    busy = faults.add(Fault("cloudfront", "CreateInvalidation", "TooManyInvalidationsInProgress", times=2))
    throttled = faults.add(Fault("cloudfront", "CreateInvalidation", "Throttling", times=1))
    world.sources.settle()

    # Then every rendition is gone from the bucket, and one invalidation names each of them
    assert (busy.injected, throttled.injected) == (2, 1)
    assert [world.objects(post_id) for post_id in ("p1", "p2", "s1")] == [[], [], []]
    expected = sorted(
        f"/posts/{post}/m1/{name}"
        for post, names in (("p1", RENDITIONS), ("p2", RENDITIONS), ("s1", STORY_RENDITIONS))
        for name in names
    )
    assert world.invalidated() == [expected]
    # and nothing was given up on, nothing is left waiting
    assert world.given_up() == {"cleanup": [], "invalidations": []}
    assert drain_queue(world.invalidations_url) == []
    print(
        "\ncdn purge:",
        json.dumps({"invalidation_attempts": world.runner.invocations["ResizeInvalidator"], "paths": len(expected)}),
    )


def test_an_invalidation_lost_after_the_deletion_is_made_when_the_cleanup_is_retried(
    world: PurgeWorld, faults: FaultInjector
) -> None:
    # Given a deleted post, whose renditions are deleted but whose invalidation SQS refuses (before the fix,
    # the retry listed nothing and invalidated nothing: the renditions stayed cached for a year)
    world.remove(world.post_with_renditions("p1"))
    refused = faults.add(
        Fault("sqs", "SendMessageBatch", THROTTLING, when=lambda params: "/posts/p1/" in json.dumps(params))
    )

    # When the pumps settle
    world.sources.settle()

    # Then the cleanup was redelivered and the CDN forgot every rendition of the post
    assert refused.injected == 1
    assert world.runner.invocations["ResizeCleanup"] == 2
    assert world.invalidated() == [sorted(f"/posts/p1/m1/{name}" for name in RENDITIONS)]
    assert world.objects("p1") == [] and world.given_up() == {"cleanup": [], "invalidations": []}


def test_a_rendition_s3_refuses_once_to_delete_is_deleted_again_and_then_invalidated(
    world: PurgeWorld, faults: FaultInjector
) -> None:
    # Given a deleted post, and S3 answering its DeleteObjects with an error for one of the renditions
    world.remove(world.post_with_renditions("p1"))
    partly = faults.add(Fault("s3", "DeleteObjects", PARTLY_DELETED, times=1))

    # When the pumps settle
    world.sources.settle()

    # Then the refused object was deleted on a second try, and every rendition invalidated
    assert partly.injected == 1
    assert world.objects("p1") == []
    assert world.invalidated() == [sorted(f"/posts/p1/m1/{name}" for name in RENDITIONS)]


def test_a_rendition_s3_keeps_refusing_is_never_counted_as_deleted_nor_invalidated_until_it_is_gone(
    world: PurgeWorld, faults: FaultInjector
) -> None:
    # Given a deleted post, and S3 refusing to delete one of its renditions every time
    world.remove(world.post_with_renditions("p1"))
    stubborn = "posts/p1/m1/large.jpg"
    always = faults.add(
        Fault(
            "s3",
            "DeleteObjects",
            PARTLY_DELETED,
            times=None,
            when=lambda params: params["Delete"]["Objects"][0]["Key"] == stubborn,
        )
    )

    # When the pumps settle
    world.sources.settle()

    # Then the other renditions are gone and invalidated, the stubborn one is still there, not invalidated,
    # and its post's REMOVE record waits in the cleanup's dead-letter queue after every attempt
    assert world.objects("p1") == [stubborn]
    invalidated = {path for invalidation in world.invalidated() for path in invalidation}
    assert invalidated == {f"/posts/p1/m1/{name}" for name in RENDITIONS if name != "large.jpg"}
    assert always.injected == world.max_receives["cleanup"] * purge.DELETE_ATTEMPTS
    dead = world.given_up()
    assert len(dead["cleanup"]) == 1 and dead["invalidations"] == []

    # When an operator sends the record back once S3 deletes again
    faults.clear()
    boto3.client("sqs").send_message(QueueUrl=world.cleanup_url, MessageBody=dead["cleanup"][0]["Body"])
    world.sources.settle()

    # Then it is gone, and the CDN forgets it too
    assert world.objects("p1") == []
    assert f"/{stubborn}" in {path for invalidation in world.invalidated() for path in invalidation}


def test_invalidations_stay_within_the_paths_cloudfront_allows_in_progress(
    world: PurgeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a limit of 8 paths per invalidation, and three deleted posts of 6 renditions each
    monkeypatch.setattr(purge, "MAX_PATHS_PER_INVALIDATION", 8)
    world.remove(*(world.post_with_renditions(f"p{n}") for n in range(3)))

    # When the pumps settle
    world.sources.settle()

    # Then each post's paths went in one invalidation, none above the limit, every rendition in one of them
    invalidations = world.invalidated()
    assert sorted(len(paths) for paths in invalidations) == [6, 6, 6]
    assert sorted(path for paths in invalidations for path in paths) == sorted(
        f"/posts/p{n}/m1/{name}" for n in range(3) for name in RENDITIONS
    )


def test_a_malformed_invalidation_request_ends_in_the_dead_letter_queue_and_the_others_are_made(
    world: PurgeWorld,
) -> None:
    # Given a request that is not one, queued before a deleted post's
    boto3.client("sqs").send_message(QueueUrl=world.invalidations_url, MessageBody='{"paths": []}')
    world.remove(world.post_with_renditions("p1"))

    # When the pumps settle
    world.sources.settle()

    # Then the post's renditions were invalidated, and the bad request was given up on after its receives
    assert world.invalidated() == [sorted(f"/posts/p1/m1/{name}" for name in RENDITIONS)]
    dead = world.given_up()
    assert [message["Body"] for message in dead["invalidations"]] == ['{"paths": []}'] and dead["cleanup"] == []
