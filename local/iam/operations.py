"""What AWS authorizes for an SDK call: its IAM action(s) and resource ARN(s), from the call's parameters.

Per service, as the Service Authorization Reference says (exceptions included: HeadObject is s3:GetObject,
ListObjectsV2 is s3:ListBucket on the bucket with s3:prefix, DeleteObjects is s3:DeleteObject per key,
a transaction is authorized item by item, Cognito does not evaluate IAM for token-authorized operations...).
An operation not listed here is `UnknownOperation`: the call is denied and the gap named, so a new call is
noticed instead of slipping through.

To teach it a service (SNS, Rekognition, SSM...): write `def _sns(operation, params, call) -> list[Access]`
and add it to `MAPPERS` under the botocore service name; then add the service's error code to
`local.iam.authorizer.ACCESS_DENIED_CODES`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import botocore.session


class UnknownOperation(Exception):
    """Local IAM enforcement does not know how AWS authorizes this call."""


@dataclass(frozen=True)
class Access:
    """One authorization AWS makes for a call."""

    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)


class Lookups(Protocol):
    region: str
    account: str

    def secret_arn(self, secret_id: str) -> str:
        """The full ARN (random suffix included) of a secret given by name or ARN."""

    def websocket_api(self, endpoint_url: str) -> tuple[str, str]:
        """(api id, stage) of the WebSocket API whose @connections endpoint this is."""


Mapper = Callable[[str, Mapping[str, Any], Lookups, str], list[Access] | None]


def _arn(service: str, lookups: Lookups, resource: str, region: bool = True) -> str:
    return f"arn:aws:{service}:{lookups.region if region else ''}:{lookups.account}:{resource}"


# -- DynamoDB --


def _table_arn(table: str, lookups: Lookups) -> str:
    return table if table.startswith("arn:") else _arn("dynamodb", lookups, f"table/{table}")


_DYNAMODB_TABLE_OPERATIONS = {
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "DescribeTable",
    "DescribeTimeToLive",
    "UpdateTimeToLive",
    "CreateTable",
    "DeleteTable",
    "UpdateTable",
    "DescribeContinuousBackups",
}
_TRANSACT_WRITE_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def _dynamodb(operation: str, params: Mapping[str, Any], lookups: Lookups, endpoint_url: str) -> list[Access]:
    if operation in _DYNAMODB_TABLE_OPERATIONS:
        return [Access(f"dynamodb:{operation}", _table_arn(params["TableName"], lookups))]
    if operation in ("Query", "Scan"):
        resource = _table_arn(params["TableName"], lookups)
        if params.get("IndexName"):
            resource += f"/index/{params['IndexName']}"
        return [Access(f"dynamodb:{operation}", resource)]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [Access(f"dynamodb:{operation}", _table_arn(table, lookups)) for table in params["RequestItems"]]
    if operation == "TransactWriteItems":
        accesses = []
        for item in params["TransactItems"]:
            ((kind, body),) = item.items()
            accesses.append(Access(f"dynamodb:{_TRANSACT_WRITE_ACTIONS[kind]}", _table_arn(body["TableName"], lookups)))
        return accesses
    if operation == "TransactGetItems":
        return [
            Access("dynamodb:GetItem", _table_arn(item["Get"]["TableName"], lookups))
            for item in params["TransactItems"]
        ]
    if operation == "ListTables":
        return [Access("dynamodb:ListTables", "*")]
    raise UnknownOperation(f"dynamodb.{operation}")


def _dynamodbstreams(operation: str, params: Mapping[str, Any], lookups: Lookups, endpoint_url: str) -> list[Access]:
    if operation in ("DescribeStream", "GetShardIterator"):
        return [Access(f"dynamodb:{operation}", params["StreamArn"])]
    if operation == "GetRecords":
        # A shard iterator names its stream: moto's (and AWS's) start with the stream ARN's table part.
        return [Access("dynamodb:GetRecords", _stream_of_iterator(params["ShardIterator"], lookups))]
    if operation == "ListStreams":
        table = params.get("TableName")
        return [Access("dynamodb:ListStreams", f"{_table_arn(table, lookups)}/stream/*" if table else "*")]
    raise UnknownOperation(f"dynamodbstreams.{operation}")


_STREAM_ARN = re.compile(r"arn:aws:dynamodb:[^:]*:\d{12}:table/[^/]+/stream/[^|\s\"]+")


def _stream_of_iterator(iterator: str, lookups: Lookups) -> str:
    found = _STREAM_ARN.search(iterator)
    if found is None:
        raise UnknownOperation(
            f"dynamodbstreams.GetRecords: cannot tell the stream of shard iterator {iterator[:60]!r}"
        )
    return found.group(0)


# -- S3 --


def _object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def _versioned(action: str, params: Mapping[str, Any]) -> str:
    return f"{action}Version" if params.get("VersionId") else action


def _s3(operation: str, params: Mapping[str, Any], lookups: Lookups, endpoint_url: str) -> list[Access]:
    bucket = params.get("Bucket", "")
    if operation in ("GetObject", "HeadObject"):
        return [Access(_versioned("s3:GetObject", params), _object_arn(bucket, params["Key"]))]
    if operation == "PutObject":
        accesses = [Access("s3:PutObject", _object_arn(bucket, params["Key"]))]
        if params.get("Tagging"):
            accesses.append(Access("s3:PutObjectTagging", _object_arn(bucket, params["Key"])))
        if params.get("ACL"):
            accesses.append(Access("s3:PutObjectAcl", _object_arn(bucket, params["Key"])))
        return accesses
    if operation == "CopyObject":
        source_bucket, source_key, source_version = _copy_source(params["CopySource"])
        source_action = "s3:GetObjectVersion" if source_version else "s3:GetObject"
        accesses = [
            Access(source_action, _object_arn(source_bucket, source_key)),
            Access("s3:PutObject", _object_arn(bucket, params["Key"])),
        ]
        if params.get("Tagging") and params.get("TaggingDirective") == "REPLACE":
            accesses.append(Access("s3:PutObjectTagging", _object_arn(bucket, params["Key"])))
        return accesses
    if operation in ("CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
        # AWS authorizes every step of a multipart upload as s3:PutObject on the object
        return [Access("s3:PutObject", _object_arn(bucket, params["Key"]))]
    if operation == "AbortMultipartUpload":
        return [Access("s3:AbortMultipartUpload", _object_arn(bucket, params["Key"]))]
    if operation == "DeleteObject":
        return [Access(_versioned("s3:DeleteObject", params), _object_arn(bucket, params["Key"]))]
    if operation == "DeleteObjects":
        return [
            Access(_versioned("s3:DeleteObject", item), _object_arn(bucket, item["Key"]))
            for item in params["Delete"]["Objects"]
        ]
    if operation in ("ListObjectsV2", "ListObjects", "ListObjectVersions"):
        context = {}
        if "Prefix" in params:
            context["s3:prefix"] = str(params["Prefix"])
        if "Delimiter" in params:
            context["s3:delimiter"] = str(params["Delimiter"])
        if "MaxKeys" in params:
            context["s3:max-keys"] = str(params["MaxKeys"])
        action = "s3:ListBucketVersions" if operation == "ListObjectVersions" else "s3:ListBucket"
        return [Access(action, f"arn:aws:s3:::{bucket}", context)]
    if operation == "HeadBucket":
        return [Access("s3:ListBucket", f"arn:aws:s3:::{bucket}")]
    if operation in ("CreateBucket", "DeleteBucket"):
        return [Access(f"s3:{operation}", f"arn:aws:s3:::{bucket}")]
    if operation == "ListBuckets":
        return [Access("s3:ListAllMyBuckets", "*")]
    raise UnknownOperation(f"s3.{operation}")


def _copy_source(source: Any) -> tuple[str, str, str | None]:
    if isinstance(source, Mapping):
        return str(source["Bucket"]), str(source["Key"]), source.get("VersionId")
    path, _, query = str(source).lstrip("/").partition("?")
    bucket, _, key = path.partition("/")
    version = query.removeprefix("versionId=") if query.startswith("versionId=") else None
    return bucket, unquote(key), version


# -- SQS --

_SQS_ACTIONS = {
    "SendMessage": "SendMessage",
    "SendMessageBatch": "SendMessage",
    "ReceiveMessage": "ReceiveMessage",
    "DeleteMessage": "DeleteMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibility": "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
    "GetQueueAttributes": "GetQueueAttributes",
    "SetQueueAttributes": "SetQueueAttributes",
    "PurgeQueue": "PurgeQueue",
    "DeleteQueue": "DeleteQueue",
}


def queue_arn_of(queue_url: str, region: str) -> str:
    """https://sqs.<region>.amazonaws.com/<account>/<name> (or moto's local form) → the queue's ARN."""
    parts = urlsplit(queue_url).path.strip("/").split("/")
    if len(parts) < 2:
        raise UnknownOperation(f"sqs: {queue_url!r} is not a queue URL")
    account, name = parts[-2:]
    return f"arn:aws:sqs:{region}:{account}:{name}"


def _sqs(operation: str, params: Mapping[str, Any], lookups: Lookups, endpoint_url: str) -> list[Access]:
    if operation in _SQS_ACTIONS:
        return [Access(f"sqs:{_SQS_ACTIONS[operation]}", queue_arn_of(params["QueueUrl"], lookups.region))]
    if operation in ("GetQueueUrl", "CreateQueue"):
        account = params.get("QueueOwnerAWSAccountId", lookups.account)
        return [Access(f"sqs:{operation}", f"arn:aws:sqs:{lookups.region}:{account}:{params['QueueName']}")]
    if operation == "ListQueues":
        return [Access("sqs:ListQueues", "*")]
    raise UnknownOperation(f"sqs.{operation}")


# -- Cognito user pools --


@lru_cache(maxsize=1)
def cognito_operations_without_iam() -> frozenset[str]:
    """Operations Cognito authorizes by token or not at all: AWS's own API documentation (shipped in
    botocore's model) says of each "Amazon Cognito doesn't evaluate Identity and Access Management (IAM)
    policies in requests for this API operation"."""
    model = botocore.session.get_session().get_service_model("cognito-idp")
    return frozenset(
        name
        for name in model.operation_names
        if "doesn't evaluate Identity and Access Management" in (model.operation_model(name).documentation or "")
    )


@lru_cache(maxsize=1)
def _cognito_operations_with_iam() -> frozenset[str]:
    model = botocore.session.get_session().get_service_model("cognito-idp")
    return frozenset(
        name
        for name in model.operation_names
        if "evaluates Identity and Access Management" in (model.operation_model(name).documentation or "")
    )


def _cognito_idp(operation: str, params: Mapping[str, Any], lookups: Lookups, endpoint_url: str) -> list[Access] | None:
    if operation in cognito_operations_without_iam():
        return None
    if operation not in _cognito_operations_with_iam():
        raise UnknownOperation(f"cognito-idp.{operation}")
    if "UserPoolId" in params:
        return [Access(f"cognito-idp:{operation}", _arn("cognito-idp", lookups, f"userpool/{params['UserPoolId']}"))]
    if operation in ("ListUserPools", "CreateUserPool"):
        return [Access(f"cognito-idp:{operation}", "*")]
    raise UnknownOperation(f"cognito-idp.{operation} without a UserPoolId")


# -- Secrets Manager, CloudFront, API Gateway @connections --


def _secretsmanager(operation: str, params: Mapping[str, Any], lookups: Lookups, endpoint_url: str) -> list[Access]:
    if operation in ("GetSecretValue", "DescribeSecret", "PutSecretValue", "UpdateSecret", "DeleteSecret"):
        return [Access(f"secretsmanager:{operation}", lookups.secret_arn(params["SecretId"]))]
    if operation == "BatchGetSecretValue" and "SecretIdList" in params:
        return [Access("secretsmanager:GetSecretValue", lookups.secret_arn(s)) for s in params["SecretIdList"]]
    if operation in ("ListSecrets", "CreateSecret"):
        return [Access(f"secretsmanager:{operation}", "*")]
    raise UnknownOperation(f"secretsmanager.{operation}")


def _cloudfront(operation: str, params: Mapping[str, Any], lookups: Lookups, endpoint_url: str) -> list[Access]:
    if operation in ("CreateInvalidation", "GetInvalidation", "ListInvalidations", "GetDistribution"):
        distribution = params.get("DistributionId") or params["Id"]
        return [Access(f"cloudfront:{operation}", _arn("cloudfront", lookups, f"distribution/{distribution}", False))]
    raise UnknownOperation(f"cloudfront.{operation}")


_CONNECTION_METHODS = {"PostToConnection": "POST", "GetConnection": "GET", "DeleteConnection": "DELETE"}


def _apigatewaymanagementapi(
    operation: str, params: Mapping[str, Any], lookups: Lookups, endpoint_url: str
) -> list[Access]:
    method = _CONNECTION_METHODS.get(operation)
    if method is None:
        raise UnknownOperation(f"apigatewaymanagementapi.{operation}")
    api_id, stage = lookups.websocket_api(endpoint_url)
    resource = _arn("execute-api", lookups, f"{api_id}/{stage}/{method}/@connections/{params['ConnectionId']}")
    return [Access("execute-api:ManageConnections", resource)]


def _rekognition(operation: str, params: Mapping[str, Any], lookups: Lookups, endpoint_url: str) -> list[Access]:
    # DetectModerationLabels on bytes names no resource (Service Authorization Reference: `*`); on an S3Object, S3
    # also checks s3:GetObject as the caller, which Pinhole never asks for (resize sends the bytes).
    if operation == "DetectModerationLabels" and "S3Object" not in params.get("Image", {}):
        return [Access("rekognition:DetectModerationLabels", "*")]
    raise UnknownOperation(f"rekognition.{operation}")


# -- SNS (mobile push) --

_SNS_BY_ENDPOINT = {"GetEndpointAttributes", "SetEndpointAttributes", "DeleteEndpoint"}
_SNS_BY_APPLICATION = {
    "CreatePlatformEndpoint",
    "GetPlatformApplicationAttributes",
    "SetPlatformApplicationAttributes",
    "DeletePlatformApplication",
    "ListEndpointsByPlatformApplication",
}


def _sns(operation: str, params: Mapping[str, Any], lookups: Lookups, endpoint_url: str) -> list[Access]:
    """Platform endpoints and applications are named by their ARNs; a publish is authorized on its target
    (an endpoint, a topic) — a publish to a phone number is authorized on "*"."""
    if operation in _SNS_BY_ENDPOINT:
        return [Access(f"sns:{operation}", params["EndpointArn"])]
    if operation in _SNS_BY_APPLICATION:
        return [Access(f"sns:{operation}", params["PlatformApplicationArn"])]
    if operation == "Publish":
        if "PhoneNumber" in params:
            return [Access("sns:Publish", "*")]
        return [Access("sns:Publish", params["TopicArn"] if "TopicArn" in params else params["TargetArn"])]
    if operation in ("CreatePlatformApplication", "ListPlatformApplications"):
        return [Access(f"sns:{operation}", "*")]
    raise UnknownOperation(f"sns.{operation}")


MAPPERS: dict[str, Mapper] = {
    "dynamodb": _dynamodb,
    "dynamodbstreams": _dynamodbstreams,
    "s3": _s3,
    "sqs": _sqs,
    "cognito-idp": _cognito_idp,
    "secretsmanager": _secretsmanager,
    "cloudfront": _cloudfront,
    "apigatewaymanagementapi": _apigatewaymanagementapi,
    "rekognition": _rekognition,
    "sns": _sns,
}


def accesses_of(
    service: str, operation: str, params: Mapping[str, Any], lookups: Lookups, endpoint_url: str = ""
) -> list[Access] | None:
    """The authorizations AWS makes for the call, or None if IAM does not authorize it at all."""
    mapper = MAPPERS.get(service)
    if mapper is None:
        raise UnknownOperation(f"{service}.{operation} (no mapper for the {service} service)")
    try:
        return mapper(operation, params, lookups, endpoint_url)
    except KeyError as missing:
        raise UnknownOperation(f"{service}.{operation} without its {missing} parameter") from None


def websocket_api_from_aws_url(endpoint_url: str) -> tuple[str, str] | None:
    """(api id, stage) from https://<api>.execute-api.<region>.amazonaws.com/<stage>."""
    parts = urlsplit(endpoint_url)
    host = parts.hostname or ""
    if ".execute-api." not in host:
        return None
    return host.split(".", 1)[0], parts.path.strip("/").split("/")[0]
