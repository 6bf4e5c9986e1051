"""`local.moto_dispatch.FunctionNames` holds exactly the names moto's `method_names_from_class` lists, for the
response classes of every service the local cloud asks moto for (and names that are no function)."""

import pytest
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.utils import method_names_from_class
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
from moto.s3.responses import S3Response
from moto.secretsmanager.responses import SecretsManagerResponse
from moto.sqs.responses import SQSResponse

from local import moto_dispatch
from local.moto_dispatch import FunctionNames


@pytest.mark.parametrize(
    "response_class",
    [DynamoHandler, DynamoDBStreamsHandler, SQSResponse, S3Response, CognitoIdpResponse, SecretsManagerResponse],
)
def test_function_names_hold_what_moto_lists(response_class: type) -> None:
    listed = set(method_names_from_class(response_class))
    names = FunctionNames(response_class)
    candidates = [*dir(response_class), "no_such_action", "", "PROTOCOL_PARSER_MAP_TYPE", "dynamodb_backend", 3]

    assert {name for name in candidates if name in names} == listed


def test_install_replaces_the_class_walk_once_and_is_refused_for_another_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core import responses

    monkeypatch.setattr(responses, "method_names_from_class", method_names_from_class)
    moto_dispatch.install()
    assert responses.method_names_from_class is FunctionNames

    monkeypatch.setattr(responses, "method_names_from_class", method_names_from_class)
    monkeypatch.setitem(moto_dispatch.FINGERPRINTS, "BaseResponse.call_action", "0000000000000000")
    with pytest.raises(moto_dispatch.MotoDispatchChanged):
        moto_dispatch.install()
