"""How long resize keeps trying a picture, as synthesized: the upload-events queue gives up after the number of
receives resize counts on (its last receive rejects a picture that fails again), and the sweep leaves a post whose
resize failed alone for longer than every retry can take."""

from typing import Any

from pinhole.resize.models import PENDING_WHILE_RETRIED, RESIZE_MAX_RECEIVES
from tests.infrastructure.test_functions import _functions_by_service


def test_the_sweep_waits_out_every_resize_retry_and_the_last_receive_is_the_one_resize_rejects_on(
    stateful: dict[str, Any], stateless: dict[str, Any]
) -> None:
    # Given the upload-events queue and the resize function as synthesized
    (queue,) = [
        resource["Properties"]
        for logical_id, resource in stateful["Resources"].items()
        if resource["Type"] == "AWS::SQS::Queue" and logical_id.startswith("MediaStorageUploadEventsQueue")
    ]
    _, resize = _functions_by_service(stateless)["resize"]

    # Then the queue redrives after exactly the receives resize counts (a picture is rejected on the last one, so
    # no picture is parked in the dead-letter queue for failing to render)
    assert queue["RedrivePolicy"]["maxReceiveCount"] == RESIZE_MAX_RECEIVES
    # And a post kept from the sweep after a failed attempt stays kept until every later attempt has run out
    budget_s = RESIZE_MAX_RECEIVES * queue["VisibilityTimeout"] + resize["Properties"]["Timeout"]
    assert PENDING_WHILE_RETRIED.total_seconds() > budget_s
