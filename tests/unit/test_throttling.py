"""Which errors are AWS throttling us (pinhole.shared.throttling): every service's code, however wrapped."""

import pytest
from botocore.exceptions import ClientError

from pinhole.shared.throttling import throttled_by_aws


@pytest.mark.parametrize(
    "service_code",
    [
        "ThrottlingException",  # DynamoDB, Secrets Manager, SSM
        "ProvisionedThroughputExceededException",  # DynamoDB
        "TooManyRequestsException",  # Cognito
        "LimitExceededException",  # Cognito, the WebSocket management API
        "SlowDown",  # S3
        "RequestThrottled",  # SQS
        "KmsThrottled",  # SQS with KMS
        "Throttling",  # query-protocol services
    ],
)
def test_every_services_throttling_code_is_recognised_even_wrapped(service_code: str) -> None:
    # Given a service's throttling error, alone and raised from by a library's own error
    error = ClientError({"Error": {"Code": service_code, "Message": "slow down"}}, "AnyOperation")
    assert throttled_by_aws(error)
    assert throttled_by_aws(RuntimeError("wrapped")) is False
    try:
        try:
            raise error
        except ClientError as cause:
            raise ValueError("a library's own error") from cause
    except ValueError as wrapped:
        assert throttled_by_aws(wrapped)
    assert not throttled_by_aws(ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "AnyOperation"))
