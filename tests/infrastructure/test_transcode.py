"""The transcode function as synthesized: its own package (the only one with ffmpeg), sized for a 90 s 4K HEVC clip,
fed by resize through its own queue, and with a dead-letter path that ends every video's wait.

Package sizes are measured from the staged assets in cdk.out, as Lambda counts them: the function's code plus its
layers, unzipped, at most 250 MB (262,144,000 bytes)."""

from pathlib import Path
from typing import Any

import pytest

from pinhole.transcode.models import PENDING_AFTER_UPLOAD, WATCHDOG_RESERVE_S
from stacks.stateful.media_construct import (
    TRANSCODE_EVENTS_VISIBILITY,
    TRANSCODE_MAX_RECEIVES,
    TRANSCODE_TIMEOUT,
)
from tests.infrastructure.test_functions import _functions_by_service, _policy_statements

LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024
HEADROOM = 0.10  # a dependency or two can be added to the domain layer before the largest package is at risk
FFMPEG = "imageio_ffmpeg"


def _size(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file() and not path.is_symlink())


def _package(cloud_assembly: Any, stateless: dict[str, Any], context: str) -> dict[str, Path]:
    """The function's code and each of its layers: name → staged directory."""
    _, function = _functions_by_service(stateless)[context]
    parts = {"code": cloud_assembly.directory / function["Metadata"]["aws:asset:path"]}
    for layer in function["Properties"]["Layers"]:
        resource = stateless["Resources"][layer["Ref"]]
        parts[resource["Properties"]["Description"]] = cloud_assembly.directory / resource["Metadata"]["aws:asset:path"]
    return parts


@pytest.mark.parametrize("context", ["transcode", "transcode.dead_letter", "resize", "resize.cleanup"])
def test_media_function_package_fits_lambdas_limit_with_headroom(cloud_assembly, stateless, context: str) -> None:
    # Given the function's code and layers as staged for deployment
    sizes = {name: _size(path) for name, path in _package(cloud_assembly, stateless, context).items()}
    total = sum(sizes.values())
    margin = LAMBDA_UNZIPPED_LIMIT_BYTES - total
    print(f"{context}: {total / 1e6:.1f} MB of 262.1 MB, margin {margin / 1e6:.1f} MB ({margin / 2621440:.0f}%)")
    for name, size in sizes.items():
        print(f"  {size / 1e6:7.1f} MB  {name}")

    # Then it stays under Lambda's 250 MB (unzipped) with at least 10% to spare
    assert total <= LAMBDA_UNZIPPED_LIMIT_BYTES * (1 - HEADROOM), sizes


def test_only_transcode_carries_ffmpeg(cloud_assembly, stateless) -> None:
    # Given every function's layers
    carriers = {
        context
        for context in _functions_by_service(stateless)
        if any((path / "python" / FFMPEG).is_dir() for path in _package(cloud_assembly, stateless, context).values())
    }

    # Then the ffmpeg binary is in the transcode function's package only (resize handles pictures alone now)
    assert carriers == {"transcode"}


def test_transcode_is_sized_for_a_90_s_4k_hevc_clip_and_stops_itself_before_lambda_does(stateless) -> None:
    # Given the transcode function
    _, function = _functions_by_service(stateless)["transcode"]
    props = function["Properties"]

    # Then it has more than one vCPU's worth of memory (x264 is multi-threaded), the longest timeout, a /tmp for the
    # original plus both ladders, and its watchdog leaves time to record the outcome
    assert props["MemorySize"] >= 3538
    assert props["Timeout"] == TRANSCODE_TIMEOUT.to_seconds() == 900
    assert props["EphemeralStorage"]["Size"] >= 2048
    assert 0 < WATCHDOG_RESERVE_S < props["Timeout"] / 4


def test_transcode_queue_hides_a_message_for_six_timeouts_and_gives_up_into_a_consumed_dead_letter_queue(
    cloud_assembly, stateful, stateless
) -> None:
    # Given the transcode queue and the mappings of the transcode functions
    queues = {
        logical_id: resource["Properties"]
        for logical_id, resource in stateful["Resources"].items()
        if resource["Type"] == "AWS::SQS::Queue" and logical_id.startswith("MediaStorageTranscode")
    }
    (queue,) = [props for logical_id, props in queues.items() if logical_id.startswith("MediaStorageTranscodeQueue")]
    mappings = {
        resource["Properties"]["FunctionName"]["Ref"]: resource["Properties"]
        for resource in stateless["Resources"].values()
        if resource["Type"] == "AWS::Lambda::EventSourceMapping"
    }
    transcode_id, _ = _functions_by_service(stateless)["transcode"]
    dead_letter_id, _ = _functions_by_service(stateless)["transcode.dead_letter"]

    # Then a message in flight stays hidden for six timeouts, is tried twice, one video per invocation
    assert queue["VisibilityTimeout"] == 6 * TRANSCODE_TIMEOUT.to_seconds() == TRANSCODE_EVENTS_VISIBILITY.to_seconds()
    assert queue["RedrivePolicy"]["maxReceiveCount"] == TRANSCODE_MAX_RECEIVES
    assert mappings[transcode_id]["BatchSize"] == 1
    assert mappings[transcode_id]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # And the dead-letter queue is consumed (its consumer fails the post)
    assert "TranscodeDeadLetterQueue" in str(mappings[dead_letter_id]["EventSourceArn"])
    # And the sweep leaves a video alone longer than every attempt could take
    budget_s = TRANSCODE_MAX_RECEIVES * TRANSCODE_EVENTS_VISIBILITY.to_seconds() + TRANSCODE_TIMEOUT.to_seconds()
    assert PENDING_AFTER_UPLOAD.total_seconds() > budget_s


def test_resize_sends_only_to_the_transcode_queue_and_transcode_touches_only_posts_and_message_objects(
    stateless,
) -> None:
    # Given the roles of resize and transcode
    functions = _functions_by_service(stateless)

    def statements(context: str) -> list[dict[str, Any]]:
        return _policy_statements(stateless, functions[context][1]["Properties"]["Role"]["Fn::GetAtt"][0])

    # Then resize sends messages to the transcode queue and the CDN invalidations queue, nowhere else
    sends = [s for s in statements("resize") if "sqs:SendMessage" in str(s["Action"])]
    assert sorted("TranscodeQueue" in str(s["Resource"]) for s in sends) == [False, True]
    assert all("TranscodeQueue" in str(s["Resource"]) or "MediaInvalidationsQueue" in str(s["Resource"]) for s in sends)
    # And every S3 object action of transcode is confined to posts' keys, or to video messages' (their originals
    # under messages/ in the uploads bucket, their renditions under conversations/ in the message media bucket)
    confined = ("UploadsBucket", "/posts/*"), ("MediaBucket", "/posts/*"), ("UploadsBucket", "/messages/*")
    confined += (("MessageMediaBucket", "/conversations/*"),)
    for statement in statements("transcode"):
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        object_actions = [a for a in actions if a.startswith("s3:") and a != "s3:ListBucket"]
        if object_actions:
            resource = str(statement["Resource"])
            assert any(bucket in resource and prefix in resource for bucket, prefix in confined), resource
