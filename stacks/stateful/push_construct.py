"""Push to phones: the queue of pushes (standard SQS: the worker is idempotent per device, so order and
exactly-once delivery are not needed) with its dead-letter queue, and one SNS platform application per
platform whose credentials the context names (CloudFormation has no resource for them: an AWS SDK call
makes each, with the credentials resolved by CloudFormation from Secrets Manager and kept out of the
logs). With no credentials named, there is no platform application, and push is off."""

from collections.abc import Mapping

from aws_cdk import ArnFormat, Duration, SecretValue, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from aws_cdk import custom_resources as cr
from constructs import Construct

from stacks import constants

PUSH_TIMEOUT = Duration.seconds(30)
PUSH_VISIBILITY = Duration.minutes(3)  # six times the worker's timeout, as AWS advises
PUSH_MAX_RECEIVES = 5

SNS_PLATFORMS = {"apns": "APNS", "apns_sandbox": "APNS_SANDBOX", "fcm": "GCM"}
"""Pinhole's platform names (API.md) → SNS's (FCM's is GCM there)."""


class PushData(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.dlq = sqs.Queue(
            self,
            constants.PUSH_DLQ_ID,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.queue = sqs.Queue(
            self,
            constants.PUSH_QUEUE_ID,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=PUSH_VISIBILITY,
            retention_period=Duration.days(1),  # a push a day late is noise: the notification waits in the app
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=PUSH_MAX_RECEIVES),
        )


def platform_application_name(stack_name: str, platform: str) -> str:
    return f"{stack_name}-{platform}"


def sns_arn(scope: Construct, resource: str, platform: str, name: str) -> str:
    """`arn:aws:sns:<region>:<account>:app/<PLATFORM>/<name>` (resource `app`), or the endpoints' pattern
    `...:endpoint/<PLATFORM>/<name>/*` (resource `endpoint`): SNS names both from the application's name."""
    return Stack.of(scope).format_arn(
        service="sns",
        resource=resource,
        resource_name=f"{SNS_PLATFORMS[platform]}/{name}" + ("/*" if resource == "endpoint" else ""),
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )


def _attributes(platform: str, secret_name: str) -> dict[str, str]:
    def field(name: str) -> str:
        return SecretValue.secrets_manager(secret_name, json_field=name).unsafe_unwrap()

    if platform == "fcm":  # FCM HTTP v1: the service account's JSON key is the credential
        return {"PlatformCredential": SecretValue.secrets_manager(secret_name).unsafe_unwrap()}
    return {  # APNs token-based authentication (.p8 signing key)
        "PlatformCredential": field("signing_key"),
        "PlatformPrincipal": field("key_id"),
        "ApplePlatformTeamID": field("team_id"),
        "ApplePlatformBundleID": field("bundle_id"),
    }


class PushPlatforms(Construct):
    """`names`: the platform application's name per platform that has credentials."""

    def __init__(self, scope: Construct, construct_id: str, *, secrets: Mapping[str, str]) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.names: dict[str, str] = {}
        for platform, secret_name in sorted(secrets.items()):
            name = platform_application_name(stack.stack_name, platform)
            arn = sns_arn(self, "app", platform, name)
            attributes = _attributes(platform, secret_name)
            cr.AwsCustomResource(
                self,
                f"{platform.title().replace('_', '')}Application",
                on_create=cr.AwsSdkCall(
                    service="SNS",
                    action="createPlatformApplication",
                    parameters={"Name": name, "Platform": SNS_PLATFORMS[platform], "Attributes": attributes},
                    physical_resource_id=cr.PhysicalResourceId.of(name),
                    logging=cr.Logging.with_data_hidden(),  # the credentials never reach the provider's logs
                ),
                on_update=cr.AwsSdkCall(
                    service="SNS",
                    action="setPlatformApplicationAttributes",
                    parameters={"PlatformApplicationArn": arn, "Attributes": attributes},
                    physical_resource_id=cr.PhysicalResourceId.of(name),
                    logging=cr.Logging.with_data_hidden(),  # the credentials never reach the provider's logs
                ),
                on_delete=cr.AwsSdkCall(
                    service="SNS", action="deletePlatformApplication", parameters={"PlatformApplicationArn": arn}
                ),
                policy=cr.AwsCustomResourcePolicy.from_statements(
                    [
                        # CreatePlatformApplication has no resource type: IAM names none but "*"
                        iam.PolicyStatement(actions=["sns:CreatePlatformApplication"], resources=["*"]),
                        iam.PolicyStatement(
                            actions=["sns:SetPlatformApplicationAttributes", "sns:DeletePlatformApplication"],
                            resources=[arn],
                        ),
                    ]
                ),
                install_latest_aws_sdk=False,
            )
            self.names[platform] = name
