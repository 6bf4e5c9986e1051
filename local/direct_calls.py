"""DynamoDB, DynamoDB Streams, SQS and Cognito calls answered at botocore's `before-call`, with the parsed response.

`local/in_process.py` answers a handler's request at `before-send`: botocore has already resolved the endpoint,
serialised the parameters, signed the request and set up its retries, and moto then builds a werkzeug request,
finds the service by URL, parses the JSON body, serialises its result to JSON, and botocore parses that JSON back
through the operation's output shape. Measured on a `GetItem` of a 12-attribute item (fast DynamoDB, one
thread): ~1,000 µs of CPU that way, ~85 µs for botocore up to `before-call` and back, ~7 µs in the backend.

Here the same moto handler answers the same call, one step earlier: `answer()` sets the handler up as moto's
`setup_class` would for this request (the same action, parameters parsed by the handler's own parser from the
body botocore serialised, the same region and account, moto's IAM bookkeeping), runs moto's own `call_action`
(its authorization hook, its dispatch, its error handling and request id), and turns a successful result into
what botocore's parser would have made of moto's JSON: the fast DynamoDB's serializer (what moto's JSON
serializer writes) then the compiled response parser (what botocore reads back), without the JSON between.
An error is moto's own error response parsed by botocore's parser, the modeled fields (`CancellationReasons`,
the `Item` of a failed condition) added as botocore's endpoint adds them. What is skipped is transport only:
signing, the retry machinery (nothing retryable is answered: an exception moto does not handle is left to the
`before-send` path, which answers it as moto's server does), the CRC32 header, werkzeug.

Accounts whose DynamoDB is moto's own (the differential test's reference) are left to `before-send`.
`tests/integration/test_fast_dynamodb_differential.py` runs its random operation sequences through this path too.
"""

from __future__ import annotations

import functools
import json
from types import SimpleNamespace
from typing import Any

from botocore import parsers
from botocore.awsrequest import AWSResponse, HeadersDict
from botocore.model import OperationModel
from botocore.retries import standard as standard_retries
from moto import settings
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.botocore_stubber import MockRawResponse
from moto.core.responses import ActionResult, BaseResponse, get_service_model
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
from moto.iam.models import mark_account_as_visited
from moto.sqs.responses import SQSResponse

from local import response_parsing
from local.fast_dynamodb import backend as fast_backend
from local.fast_dynamodb import serialization

# botocore's service id -> moto's handler class and the AWS URL moto would have been asked at.
HANDLERS: dict[str, tuple[type[BaseResponse], str]] = {
    "dynamodb": (DynamoHandler, "https://dynamodb.{region}.amazonaws.com/"),
    "dynamodb-streams": (DynamoDBStreamsHandler, "https://streams.dynamodb.{region}.amazonaws.com/"),
    "sqs": (SQSResponse, "https://sqs.{region}.amazonaws.com/"),
    "cognito-identity-provider": (CognitoIdpResponse, "https://cognito-idp.{region}.amazonaws.com/"),
}
NO_BODY = MockRawResponse(b"")
MOTO_AUTH_OFF = float("inf")  # moto's INITIAL_NO_AUTH_ACTION_COUNT when its own IAM authentication is off
# The error codes botocore's retry modes retry (besides 5xx, 429, 509): never answered here.
RETRIED_CODES = frozenset(
    {
        *standard_retries.ThrottledRetryableChecker._THROTTLED_ERROR_CODES,
        *standard_retries.TransientRetryableChecker._TRANSIENT_ERROR_CODES,
        "ProvisionedThroughputExceededException",
    }
)


class _Request(SimpleNamespace):
    """What a handler's `parse_parameters` and `get_region_from_url` read of moto's request."""


def _access_key(request_signer: Any) -> str | None:
    credentials = getattr(request_signer, "_credentials", None)
    if credentials is None:
        return None
    return str(credentials.get_frozen_credentials().access_key)


def _handler(service_id: str, request_dict: dict[str, Any], access_key: str, region: str) -> BaseResponse:
    """A handler set up as moto's `setup_class` sets it up for this JSON request (moto 5.2.5)."""
    handler_class, url_template = HANDLERS[service_id]
    handler = handler_class()
    url = url_template.format(region=region)
    body = request_dict["body"]
    if isinstance(body, str):
        body = body.encode("utf-8")
    headers = dict(request_dict["headers"])
    headers["Authorization"] = f"AWS4-HMAC-SHA256 Credential={access_key}/20260101/{region}/{service_id}/aws4_request"
    request = _Request(
        method="POST",
        values={},
        headers=headers,
        data=body,
        path="/",
        content_type=headers.get("Content-Type"),
    )
    handler.is_werkzeug_request = False
    handler.normalized_request = request  # type: ignore[assignment]
    handler.uri = url
    handler.path = "/"
    handler.raw_path = "/"
    handler.method = "POST"
    handler.querystring = {}
    handler.data = handler.querystring
    handler.body = body.decode("utf-8")
    handler.raw_body = body
    handler.headers = headers
    handler.region = handler.get_region_from_url(request, url)
    handler.uri_match = {}
    handler.response_headers = {"server": "amazon.com"}
    if handler.automated_parameter_parsing and handler._get_action():
        handler.parse_parameters(request)  # type: ignore[arg-type]
    handler.access_key = handler.get_access_key()
    handler.current_account = handler.get_current_account()
    mark_account_as_visited(
        account_id=handler.current_account,
        access_key=handler.access_key,
        service=handler.service_name,  # type: ignore[arg-type]
        region=handler.region,
    )
    return handler


def parsed_response(operation_model: OperationModel, status: int, headers: HeadersDict, body: bytes) -> dict[str, Any]:
    """What botocore's endpoint makes of a response moto wrote (an error, or a handler's own JSON): the parse,
    and for an error the modeled error's fields."""
    protocol = operation_model.service_model.protocol
    response = {"status_code": status, "headers": headers, "body": body}
    parser = parsers.create_parser(protocol)
    parsed: dict[str, Any] = parser.parse(response, operation_model.output_shape)
    error_code = parsed.get("Error", {}).get("Code")
    if error_code is not None:
        error_shape = operation_model.service_model.shape_for_error_code(error_code)
        if error_shape is not None:
            parsed.update(parser.parse(response, error_shape))
    return parsed


@functools.lru_cache(maxsize=512)
def _motos_model(service_name: str, operation_name: str) -> OperationModel:
    """moto's own model of the operation (its serializer is written against moto's, not the client's)."""
    return get_service_model(service_name).operation_model(operation_name)


def _parsed_result(operation_model: OperationModel, handler: BaseResponse, result: ActionResult) -> Any:
    """What botocore parses out of the JSON moto writes for a successful result."""
    try:
        written = serialization.compiled(_motos_model(handler.boto3_service_name, operation_model.name))(result.result)
    except serialization.Fallback:
        _, _, body = type(handler).serialized(handler, result)
        written = json.loads(body) if body else {}
    output_shape = operation_model.output_shape
    if output_shape is None:
        return {}
    return response_parsing.compiled(output_shape)(written)


def answer(
    service_id: str, operation_model: OperationModel, request_dict: dict[str, Any], request_signer: Any, region: str
) -> tuple[AWSResponse, dict[str, Any]] | None:
    """The (http, parsed) pair botocore's `_make_request` would have returned, or None for the `before-send` path
    (a service not answered here, moto's own DynamoDB, moto's IAM authentication switched on, an exception moto
    does not turn into an error response)."""
    if service_id not in HANDLERS or settings.INITIAL_NO_AUTH_ACTION_COUNT < MOTO_AUTH_OFF:
        return None
    handler = _handler(service_id, request_dict, _access_key(request_signer) or "AKIAEXAMPLE", region)
    if handler.current_account in fast_backend.vanilla_accounts:
        return None  # the differential test's reference: moto's own DynamoDB, reached moto's own way
    succeeded: list[ActionResult] = []

    def serialized(action_result: ActionResult) -> Any:
        if isinstance(action_result.result, Exception):
            return type(handler).serialized(handler, action_result)
        succeeded.append(action_result)
        return operation_model.http.get("responseCode", 200), {}, ""

    handler.serialized = serialized  # type: ignore[method-assign]
    try:
        status, response_headers, body = handler.call_action()
    except Exception:
        return None
    headers = HeadersDict({str(key): str(value) for key, value in response_headers.items()})
    if succeeded:
        parsed = _parsed_result(operation_model, handler, succeeded[0])
        parsed["ResponseMetadata"] = {
            "RequestId": headers.get("x-amzn-requestid", ""),
            "HTTPStatusCode": status,
            "HTTPHeaders": {key.lower(): value for key, value in headers.items()},
            "RetryAttempts": 0,
        }
        return AWSResponse(handler.uri, status, headers, NO_BODY), parsed
    raw = body.encode("utf-8") if isinstance(body, str) else body
    parsed = parsed_response(operation_model, status, headers, raw)
    if status >= 500 or status in (429, 509) or parsed.get("Error", {}).get("Code") in RETRIED_CODES:
        return None  # botocore would retry it: the before-send path, where its retries are
    return AWSResponse(handler.uri, status, headers, MockRawResponse(raw)), parsed
