"""Which requests the in-process transport answers, and the AWS URL moto's dispatch gets for each."""

import pytest

from local.in_process import InProcessMoto

MOTO = "http://127.0.0.1:5001"
S3_FRONT = "http://127.0.0.1:8000/_aws/s3"


@pytest.fixture
def transport() -> InProcessMoto:
    served = InProcessMoto()
    served.serve(MOTO, S3_FRONT + "/")
    return served


@pytest.mark.parametrize(
    ("service_id", "url", "expected"),
    [
        ("dynamodb", f"{MOTO}/", "https://dynamodb.us-east-1.amazonaws.com/"),
        ("dynamodb-streams", f"{MOTO}/", "https://streams.dynamodb.us-east-1.amazonaws.com/"),
        ("sqs", f"{MOTO}/", "https://sqs.us-east-1.amazonaws.com/"),
        ("cognito-identity-provider", f"{MOTO}/", "https://cognito-idp.us-east-1.amazonaws.com/"),
        ("secrets-manager", f"{MOTO}/", "https://secretsmanager.us-east-1.amazonaws.com/"),
        ("cloudfront", f"{MOTO}/2020-05-31/distribution", "https://cloudfront.amazonaws.com/2020-05-31/distribution"),
        ("s3", f"{S3_FRONT}/bucket/a%20key.jpg?tagging", "https://s3.amazonaws.com/bucket/a%20key.jpg?tagging"),
        ("s3", f"{MOTO}/bucket?list-type=2", "https://s3.amazonaws.com/bucket?list-type=2"),
        ("s3", f"{S3_FRONT}?x-id=ListBuckets", "https://s3.amazonaws.com/?x-id=ListBuckets"),
    ],
)
def test_requests_to_local_endpoints_map_to_the_aws_url_moto_recognises(
    transport: InProcessMoto, service_id: str, url: str, expected: str
) -> None:
    assert transport.aws_url(service_id, url) == expected


@pytest.mark.parametrize(
    ("service_id", "url"),
    [
        ("dynamodb", "https://dynamodb.us-east-1.amazonaws.com/"),  # not ours: the real AWS, or mock_aws's
        ("dynamodb", "http://127.0.0.1:50011/"),  # another port
        ("s3", "http://127.0.0.1:8000/_aws/s3x/bucket"),  # only a prefix of the path, not the endpoint
        ("apigatewaymanagementapi", "http://127.0.0.1:8000/_aws/s3/x"),  # a service moto is not asked for here
        ("sts", f"{MOTO}/"),
    ],
)
def test_anything_else_is_left_to_http(transport: InProcessMoto, service_id: str, url: str) -> None:
    assert transport.aws_url(service_id, url) is None


def test_a_forgotten_endpoint_is_no_longer_answered(transport: InProcessMoto) -> None:
    transport.forget(MOTO)
    assert transport.aws_url("dynamodb", f"{MOTO}/") is None
    assert transport.aws_url("s3", f"{S3_FRONT}/bucket") is not None
