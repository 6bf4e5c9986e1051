"""Create the template's stateful resources in moto and record their local physical names.

Resources that exist only as wiring (functions, APIs, routes, roles...) get deterministic local
names so that `Ref`/`Fn::GetAtt` resolve; the gateway and pumps read their properties directly.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from local.iam.policies import role_arn, role_name_of
from local.template import ACCOUNT_ID, REGION, CloudAssembly, Resource

TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
AWS_SDK_CALL = "Custom::AWS"  # CDK's AwsCustomResource: one AWS SDK call at create
_SECRET_REFERENCE = re.compile(r"\{\{resolve:secretsmanager:([^:}]+)(?::SecretString:([^:}]*))?[^}]*\}\}")
CLOUDFRONT_DOMAIN = "local.cloudfront.net"

_POOL_PROPERTIES = (
    "Policies",
    "Schema",
    "UsernameAttributes",
    "AliasAttributes",
    "AutoVerifiedAttributes",
    "UsernameConfiguration",
    "MfaConfiguration",
    "AccountRecoverySetting",
    "AdminCreateUserConfig",
    "DeletionProtection",
    "VerificationMessageTemplate",
    "EmailConfiguration",
    "UserAttributeUpdateSettings",
)
_CLIENT_PROPERTIES = (
    "ClientName",
    "ExplicitAuthFlows",
    "GenerateSecret",
    "AccessTokenValidity",
    "IdTokenValidity",
    "RefreshTokenValidity",
    "TokenValidityUnits",
    "PreventUserExistenceErrors",
    "SupportedIdentityProviders",
    "AllowedOAuthFlows",
    "AllowedOAuthScopes",
    "AllowedOAuthFlowsUserPoolClient",
    "CallbackURLs",
    "LogoutURLs",
    "EnableTokenRevocation",
    "ReadAttributes",
    "WriteAttributes",
    "AuthSessionValidity",
)
_QUEUE_ATTRIBUTES = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds",
    "FifoQueue",
    "ContentBasedDeduplication",
)


@dataclass
class Table:
    resource: Resource
    name: str
    arn: str
    stream_arn: str | None
    ttl_attribute: str | None
    key_names: list[str]


@dataclass
class LocalResources:
    tables: list[Table] = field(default_factory=list)
    buckets: dict[str, str] = field(default_factory=dict)  # logical id -> bucket name
    queues: dict[str, str] = field(default_factory=dict)  # queue ARN -> queue URL
    user_pool_id: str = ""
    user_pool_client_id: str = ""
    user_pool_groups: list[str] = field(default_factory=list)
    media_bucket: str | None = None


class ProvisionHooks(Protocol):
    """What a restored snapshot puts into resources while they are created (`local.state.Restorer`)."""

    def secret_value(self, resource: Resource) -> str | None:
        """The value a secret had before, or None to generate one."""

    def fill_table(self, resource: Resource, table_name: str) -> None:
        """Writes the table's items, before its stream is switched on (so they are not new records)."""


def _local_name(resource: Resource, max_length: int, lower: bool = False) -> str:
    name = f"{resource.stack.name}-{resource.logical_id}"
    if lower:
        name = re.sub(r"[^a-z0-9.-]", "-", name.lower())
    return name[:max_length].rstrip("-.")


def _arn(service: str, resource_part: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{resource_part}"


class Provisioner:
    """Provisions into moto directly (not through the S3 front, which is not serving yet)."""

    def __init__(
        self, assembly: CloudAssembly, session: Any, moto_url: str, hooks: ProvisionHooks | None = None
    ) -> None:
        self.assembly = assembly
        self.hooks = hooks
        self.dynamodb = session.client("dynamodb", endpoint_url=moto_url)
        self.s3 = session.client("s3", endpoint_url=moto_url)
        self.sqs = session.client("sqs", endpoint_url=moto_url)
        self.cognito = session.client("cognito-idp", endpoint_url=moto_url)
        self.secrets = session.client("secretsmanager", endpoint_url=moto_url)
        self.cloudfront = session.client("cloudfront", endpoint_url=moto_url)
        self.session, self.moto_url = session, moto_url
        self.out = LocalResources()

    def run(self) -> LocalResources:
        self._name_wiring_resources()
        for resource in self.assembly.resources("AWS::Cognito::UserPool"):
            self._user_pool(resource)
        for resource in self.assembly.resources("AWS::Cognito::UserPoolClient"):
            self._user_pool_client(resource)
        for resource in self.assembly.resources("AWS::Cognito::UserPoolGroup"):
            self._user_pool_group(resource)
        for resource in self.assembly.resources("AWS::S3::Bucket"):
            self._bucket(resource)
        for resource in self.assembly.resources("AWS::CloudFront::Distribution"):
            self._distribution(resource)
        queues = list(self.assembly.resources("AWS::SQS::Queue"))
        # Dead-letter queues first: a redrive policy names its DLQ's ARN.
        for resource in sorted(queues, key=lambda r: "RedrivePolicy" in r.properties):
            self._queue(resource)
        for resource in self.assembly.resources():
            if resource.type in TABLE_TYPES:
                self._table(resource)
        for resource in self.assembly.resources("AWS::SecretsManager::Secret"):
            self._secret(resource)
        for resource in self.assembly.resources(AWS_SDK_CALL):
            self._aws_sdk_call(resource)
        self.out.media_bucket = self._media_bucket()
        return self.out

    def _name_wiring_resources(self) -> None:
        for resource in self.assembly.resources():
            if resource.type == "AWS::Lambda::Function":
                name = resource.properties.get("FunctionName") or _local_name(resource, 64)
                self.assembly.set_physical(resource, name, Arn=_arn("lambda", f"function:{name}"))
            elif resource.type == "AWS::CloudFront::Distribution":
                continue  # _distribution, once buckets exist
            elif resource.type == "AWS::IAM::Role":
                # Real role ARNs: local IAM enforcement evaluates each function's calls as its role.
                name = role_name_of(resource)
                self.assembly.set_physical(resource, name, Arn=role_arn(name), RoleId=name)
            elif resource.type == "AWS::ApiGatewayV2::Api":
                api_id = resource.logical_id.lower()[:10]
                self.assembly.set_physical(
                    resource, api_id, ApiId=api_id, ApiEndpoint=f"https://{api_id}.execute-api.{REGION}.amazonaws.com"
                )
            else:
                # Wiring resources (roles, routes, stages...) only need a stable, unique name.
                name = _local_name(resource, 128)
                self.assembly.set_physical(resource, name, any_attribute=True, Arn=_arn("local", name))

    def _distribution(self, resource: Resource) -> None:
        """A stand-in distribution in moto, so that handlers' CreateInvalidation calls succeed; the media
        endpoint is what actually serves (and it caches nothing, so there is nothing to invalidate)."""
        origin_bucket = _local_name(resource, 63, lower=True)
        self.s3.create_bucket(Bucket=origin_bucket)  # moto insists the origin is a bucket it knows
        origin = {
            "Id": "media",
            "DomainName": f"{origin_bucket}.s3.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""},
        }
        created = self.cloudfront.create_distribution(
            DistributionConfig={
                # unique: moto keeps distributions across resets of the other services
                "CallerReference": f"{resource.stack.name}-{resource.logical_id}-{uuid.uuid4()}",
                "Comment": resource.logical_id,
                "Enabled": True,
                "Origins": {"Quantity": 1, "Items": [origin]},
                "DefaultCacheBehavior": {"TargetOriginId": "media", "ViewerProtocolPolicy": "redirect-to-https"},
            }
        )
        distribution_id = str(created["Distribution"]["Id"])
        self.assembly.set_physical(resource, distribution_id, DomainName=CLOUDFRONT_DOMAIN, Id=distribution_id)

    def _user_pool(self, resource: Resource) -> None:
        props = self.assembly.resolve(resource.stack, resource.properties)
        kwargs = {key: props[key] for key in _POOL_PROPERTIES if key in props}
        pool = self.cognito.create_user_pool(PoolName=props.get("UserPoolName") or _local_name(resource, 128), **kwargs)
        pool_id = pool["UserPool"]["Id"]
        provider = f"cognito-idp.{REGION}.amazonaws.com/{pool_id}"
        self.assembly.set_physical(
            resource, pool_id, Arn=pool["UserPool"]["Arn"], ProviderName=provider, ProviderURL=f"https://{provider}"
        )
        self.out.user_pool_id = self.out.user_pool_id or pool_id

    def _user_pool_client(self, resource: Resource) -> None:
        props = self.assembly.resolve(resource.stack, resource.properties)
        kwargs = {key: props[key] for key in _CLIENT_PROPERTIES if key in props}
        kwargs.setdefault("ClientName", _local_name(resource, 128))
        client = self.cognito.create_user_pool_client(UserPoolId=props["UserPoolId"], **kwargs)["UserPoolClient"]
        self.assembly.set_physical(resource, client["ClientId"], Name=client["ClientName"])
        self.out.user_pool_client_id = self.out.user_pool_client_id or client["ClientId"]

    def _user_pool_group(self, resource: Resource) -> None:
        """A group (the moderators): members carry it in their access tokens' `cognito:groups`."""
        props = self.assembly.resolve(resource.stack, resource.properties)
        kwargs = {key: props[key] for key in ("Description", "Precedence") if key in props}
        self.cognito.create_group(GroupName=props["GroupName"], UserPoolId=props["UserPoolId"], **kwargs)
        self.assembly.set_physical(resource, props["GroupName"])
        self.out.user_pool_groups.append(str(props["GroupName"]))

    def _bucket(self, resource: Resource) -> None:
        props = self.assembly.resolve(resource.stack, resource.properties)
        name = props.get("BucketName") or _local_name(resource, 63, lower=True)
        self.s3.create_bucket(Bucket=name)
        if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            self.s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        self.assembly.set_physical(
            resource,
            name,
            Arn=f"arn:aws:s3:::{name}",
            DomainName=f"{name}.s3.amazonaws.com",
            RegionalDomainName=f"{name}.s3.{REGION}.amazonaws.com",
            DualStackDomainName=f"{name}.s3.dualstack.{REGION}.amazonaws.com",
            WebsiteURL=f"http://{name}.s3-website-{REGION}.amazonaws.com",
        )
        self.out.buckets[resource.logical_id] = name

    def _queue(self, resource: Resource) -> None:
        props = self.assembly.resolve(resource.stack, resource.properties)
        name = props.get("QueueName") or _local_name(resource, 75)
        attributes = {
            key: str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
            for key in _QUEUE_ATTRIBUTES
            if key in props
        }
        if props.get("FifoQueue") and not name.endswith(".fifo"):
            name += ".fifo"
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = _arn("sqs", name)
        self.assembly.set_physical(resource, url, Arn=arn, QueueName=name, QueueUrl=url)
        self.out.queues[arn] = url

    def _secret(self, resource: Resource) -> None:
        """A secret with its value generated here, as GenerateSecretString has CloudFormation do."""
        props = self.assembly.resolve(resource.stack, resource.properties)
        name = props.get("Name") or _local_name(resource, 256)
        kept = self.hooks.secret_value(resource) if self.hooks else None
        value = kept or props.get("SecretString") or secrets.token_urlsafe(48)
        arn = self.secrets.create_secret(Name=name, SecretString=value)["ARN"]
        self.assembly.set_physical(resource, arn, Id=arn, Arn=arn)

    def _aws_sdk_call(self, resource: Resource) -> None:
        """What an AwsCustomResource does when CloudFormation creates it: its `Create` SDK call (JavaScript
        SDK names: service `SNS`, action `createPlatformApplication`), made against moto, with the secrets
        its parameters reference resolved as CloudFormation would."""
        props = self.assembly.resolve(resource.stack, resource.properties)
        call = json.loads(self._resolve_secrets(str(props["Create"])))
        service = call["service"].lower()
        action = re.sub(r"(?<!^)(?=[A-Z])", "_", call["action"]).lower()
        client = self.session.client(service, endpoint_url=self.moto_url)
        response = getattr(client, action)(**call.get("parameters", {}))
        physical = call.get("physicalResourceId", {})
        name = physical.get("id") or response.get(physical.get("responsePath", ""), "") or _local_name(resource, 128)
        self.assembly.set_physical(resource, str(name), any_attribute=True)

    def _resolve_secrets(self, text: str) -> str:
        """`{{resolve:secretsmanager:name:SecretString:field::}}` → the value. A secret the operator would
        have created before deploying (push credentials named by context) is created here first, with a
        local stand-in value: moto's platform applications accept any credential."""

        def value(match: re.Match[str]) -> str:
            name, json_field = match.group(1), match.group(2)
            try:
                secret = self.secrets.get_secret_value(SecretId=name)["SecretString"]
            except self.secrets.exceptions.ResourceNotFoundException:
                secret = json.dumps(
                    {
                        "local": "stand-in credential",
                        "signing_key": "local",
                        "key_id": "LOCAL",
                        "team_id": "LOCAL",
                        "bundle_id": "app.pinhole.local",
                    }
                )
                self.secrets.create_secret(Name=name, SecretString=secret)
            found = str(json.loads(secret).get(json_field, "")) if json_field else secret
            return json.dumps(found)[1:-1]  # inside a JSON string

        return _SECRET_REFERENCE.sub(value, text)

    def _table(self, resource: Resource) -> None:
        props = self.assembly.resolve(resource.stack, resource.properties)
        name = props.get("TableName") or _local_name(resource, 255)
        kwargs: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": "PAY_PER_REQUEST",
        }
        indexes = [
            {"IndexName": gsi["IndexName"], "KeySchema": gsi["KeySchema"], "Projection": gsi["Projection"]}
            for gsi in props.get("GlobalSecondaryIndexes", [])
        ]
        if indexes:
            kwargs["GlobalSecondaryIndexes"] = indexes
        local_indexes = [
            {"IndexName": lsi["IndexName"], "KeySchema": lsi["KeySchema"], "Projection": lsi["Projection"]}
            for lsi in props.get("LocalSecondaryIndexes", [])
        ]
        if local_indexes:
            kwargs["LocalSecondaryIndexes"] = local_indexes
        description = self.dynamodb.create_table(**kwargs)["TableDescription"]
        if self.hooks:
            self.hooks.fill_table(resource, name)
        view_type = props.get("StreamSpecification", {}).get("StreamViewType")
        if view_type:
            # Switched on after the table is filled: restored items are not new stream records.
            description = self.dynamodb.update_table(
                TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type}
            )["TableDescription"]
        ttl = props.get("TimeToLiveSpecification", {})
        ttl_attribute = ttl.get("AttributeName") if ttl.get("Enabled") else None
        if ttl_attribute:
            self.dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute}
            )
        stream_arn = description.get("LatestStreamArn")
        attributes = {"Arn": description["TableArn"]}
        if stream_arn:
            attributes["StreamArn"] = stream_arn
        self.assembly.set_physical(resource, name, **attributes)
        self.out.tables.append(
            Table(
                resource=resource,
                name=name,
                arn=description["TableArn"],
                stream_arn=stream_arn,
                ttl_attribute=ttl_attribute,
                key_names=[key["AttributeName"] for key in props["KeySchema"]],
            )
        )

    def _media_bucket(self) -> str | None:
        """The bucket CloudFront serves: the origin of the distribution, else a bucket named like media."""
        for distribution in self.assembly.resources("AWS::CloudFront::Distribution"):
            config = self.assembly.resolve(distribution.stack, distribution.properties).get("DistributionConfig", {})
            for origin in config.get("Origins", []):
                bucket = origin.get("DomainName", "").split(".s3.")[0]
                if bucket in self.out.buckets.values():
                    return bucket
        for logical_id, name in self.out.buckets.items():
            if "media" in logical_id.lower():
                return name
        return None
