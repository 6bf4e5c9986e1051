"""Deleted media leaves the CDN: whoever may delete renditions may also queue their invalidation, only the
invalidator may invalidate, and it cannot ask CloudFront for more file paths in progress than a distribution
allows (pinhole.resize.purge)."""

import json
from typing import Any

from pinhole.resize.purge import MAX_PATHS_PER_INVALIDATION

CLOUDFRONT_FILE_PATHS_IN_PROGRESS = 3000  # per distribution (CloudFront developer guide, invalidation quotas)


def _functions_allowed(stack: dict[str, Any], action: str, resource_mentions: str) -> set[str]:
    """The construct paths of the functions whose role allows `action` on a resource naming `resource_mentions`."""
    resources = stack["Resources"]
    roles = set()
    for policy in resources.values():
        if policy["Type"] != "AWS::IAM::Policy":
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
            if (
                statement["Effect"] == "Allow"
                and action in actions
                and resource_mentions in json.dumps(statement["Resource"])
            ):
                roles |= {role["Ref"] for role in policy["Properties"]["Roles"]}
    return {
        function["Metadata"]["aws:cdk:path"].removesuffix("/Function/Resource")
        for function in resources.values()
        if function["Type"] == "AWS::Lambda::Function" and function["Properties"]["Role"]["Fn::GetAtt"][0] in roles
    }


def test_every_function_that_deletes_renditions_can_queue_their_invalidation(stateless: dict[str, Any]) -> None:
    # Given the functions that may delete objects of the media bucket (behind the CDN; message media is not)
    deleters = _functions_allowed(stateless, "s3:DeleteObject", "MediaStorageMediaBucket")  # not the message media

    # Then each may queue the invalidation of what it deleted: resize and transcode (renditions made for a post
    # deleted meanwhile, an avatar replaced), the cleanup (deleted posts, expired stories) and the upload API
    # (DELETE /me/avatar)
    assert deleters == {
        "PinholeStateless/Resize",
        "PinholeStateless/Resize/Cleanup",
        "PinholeStateless/Transcode",
        "PinholeStateless/UploadApi",
        "PinholeStateless/Privacy/Purge",  # an account's avatars
    }
    assert deleters <= _functions_allowed(stateless, "sqs:SendMessage", "MediaInvalidationsQueue")


def test_only_the_invalidator_invalidates_and_it_drains_the_invalidations_queue(stateless: dict[str, Any]) -> None:
    # Given the functions that may create invalidations
    invalidators = _functions_allowed(stateless, "cloudfront:CreateInvalidation", "distribution")

    # Then there is one: the consumer of the invalidations queue
    assert invalidators == {"PinholeStateless/Resize/Invalidator"}
    (mapping,) = [
        resource["Properties"]
        for resource in stateless["Resources"].values()
        if resource["Type"] == "AWS::Lambda::EventSourceMapping"
        and "MediaInvalidationsQueue" in json.dumps(resource["Properties"]["EventSourceArn"])
    ]
    function = stateless["Resources"][mapping["FunctionName"]["Ref"]]
    assert function["Metadata"]["aws:cdk:path"] == "PinholeStateless/Resize/Invalidator/Function/Resource"
    # And as many invalidators as may run at once never ask for more file paths than CloudFront keeps in progress
    assert (
        mapping["ScalingConfig"]["MaximumConcurrency"] * MAX_PATHS_PER_INVALIDATION <= CLOUDFRONT_FILE_PATHS_IN_PROGRESS
    )
    # And a burst of deletions is gathered into few invalidations
    assert mapping["BatchSize"] >= 100 and mapping["MaximumBatchingWindowInSeconds"] > 0


def test_the_invalidations_queue_is_stateful_and_keeps_what_waits_for_14_days(stateful: dict[str, Any]) -> None:
    ((queue,),) = [
        [resource]
        for resource in stateful["Resources"].values()
        if resource["Type"] == "AWS::SQS::Queue"
        and resource["Metadata"]["aws:cdk:path"].endswith("/MediaInvalidationsQueue/Resource")
    ]

    # A deleted rendition's invalidation outlives any redeploy of the stateless stack and any CloudFront backlog
    assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
