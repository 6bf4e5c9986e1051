"""Every cdk-nag finding Pinhole acknowledges, each with the reason it is acceptable. Nothing else
is acknowledged anywhere: a new finding fails synth (`make synth`) and tests/infrastructure.

cdk-nag v3 rides on CDK's validation framework: an acknowledgement is metadata on the construct
(and covers its children); findings with a suffix (IAM5[...]) are acknowledged one by one."""

from typing import cast

from aws_cdk import Acknowledgment, CfnElement, Validations
from aws_cdk import aws_lambda as lambda_

from stacks.stateful_stack import StatefulStack
from stacks.stateless.web_construct import AWS_CUSTOM_RESOURCE_PROVIDER_ID
from stacks.stateless_stack import StatelessStack


def _rule(rule_id: str) -> str:
    """The validation-framework id of a cdk-nag rule: `<pack>::<rule>` (e.g. AwsSolutions::AwsSolutions-L1);
    a bare id would be read as a construct-annotation id."""
    return f"{rule_id.split('-', 1)[0]}::{rule_id}"


def acknowledge_findings(stateful: StatefulStack, stateless: StatelessStack) -> None:
    _acknowledge_identity(stateful)
    _acknowledge_stateful_plumbing(stateful)
    _acknowledge_functions(stateless)
    _acknowledge_media_pipeline(stateless)
    _acknowledge_public_routes(stateless)
    _acknowledge_websocket_api(stateless)
    _acknowledge_distributions(stateless)
    _acknowledge_web_app(stateless)
    _acknowledge_uploads_cors(stateless)
    _acknowledge_push(stateful, stateless)


def _acknowledge_identity(stateful: StatefulStack) -> None:
    Validations.of(stateful.auth.user_pool).acknowledge(
        Acknowledgment(
            id=_rule("AwsSolutions-COG1"),
            reason="The policy is pinhole.auth.password_policy (one source of truth, checked at sign-up too): "
            "length 10 with upper, lower and digits; no symbol rule, following NIST SP 800-63B on composition rules.",
        ),
        Acknowledgment(
            id=_rule("AwsSolutions-COG2"),
            reason="MFA is OPTIONAL, each user's choice (TOTP by authenticator app, POST /me/mfa/totp): a consumer "
            "photo app cannot require it of every account, as Instagram does not.",
        ),
        Acknowledgment(
            id=_rule("AwsSolutions-COG8"),
            reason="The Essentials feature plan is enough for username/password login; threat protection "
            "(Plus plan, priced per MAU) is a cost decision for launch, not for this stage.",
        ),
    )


def _acknowledge_functions(stateless: StatelessStack) -> None:
    functions = [node for node in stateless.node.find_all() if isinstance(node, lambda_.Function)]
    for function in functions:
        Validations.of(function).acknowledge(
            Acknowledgment(
                id=_rule("AwsSolutions-L1"),
                reason="Python 3.12 is the pinned runtime: the domain layer is built for cp312/arm64 "
                "(stacks/layer_bundling.py); moving runtime is a deliberate, tested change.",
            ),
            Acknowledgment(
                id=_rule("Serverless-LambdaLatestVersion"),
                reason="Python 3.12 is the pinned runtime: the domain layer is built for cp312/arm64.",
            ),
            Acknowledgment(
                id=_rule("Serverless-LambdaDLQ"),
                reason="API functions are invoked synchronously (the caller gets the error), resize by an SQS "
                "event source (the queue's redrive policy is its DLQ), the sweep by a schedule that retries "
                "on its next run; a Lambda DLQ only applies to asynchronous invocations.",
            ),
        )
        assert function.role is not None
        Validations.of(function.role).acknowledge(
            Acknowledgment(
                id=_rule("AwsSolutions-IAM5[Resource::*]"),
                reason="X-Ray tracing (Tracing.ACTIVE): xray:PutTraceSegments and xray:PutTelemetryRecords "
                "do not support resource-level permissions; nor does dynamodb:ListStreams, which CDK adds on "
                "'*' for functions fed by a table's stream, nor rekognition:DetectModerationLabels (resize's "
                "automatic image screening).",
            )
        )


def _acknowledge_public_routes(stateless: StatelessStack) -> None:
    for route in stateless.http_api.public_routes:
        Validations.of(route).acknowledge(
            Acknowledgment(
                id=_rule("AwsSolutions-APIG4"),
                reason="Public by contract (API.md Conventions): /auth/* issue the tokens, /health, "
                "/openapi.json and /docs are for anyone; $default only answers with the JSON 404 envelope.",
            )
        )


def _acknowledge_websocket_api(stateless: StatelessStack) -> None:
    websocket = stateless.websocket_api
    for route in websocket.routes:
        if route is websocket.connect_route:
            continue
        Validations.of(route).acknowledge(
            Acknowledgment(
                id=_rule("AwsSolutions-APIG4"),
                reason="WebSocket APIs authorize a connection once, at $connect (which has the Lambda REQUEST "
                "authorizer); API Gateway allows no authorizer on any other route, and each of them runs "
                "with the identity the authorizer put on the connection.",
            )
        )
    api_token = f"<{stateless.get_logical_id(cast(CfnElement, websocket.api.node.default_child))}>"
    for function in (
        stateless.messaging.function,
        stateless.messaging.websocket,
        stateless.notifications.deliver,
        stateless.auth.function,  # sign-out everywhere closes the account's connections
        stateless.resize.function,  # a photo message is pushed when its picture is ready
        stateless.transcode.function,  # a video message, when its renditions are
        stateless.transcode.dead_letter,  # a video message given up on is told to its sender
        stateless.privacy.function,  # deleting the account closes its connections
        stateless.moderation.function,  # a message removed or restored by a moderator is told live
        stateless.messaging.sweep,  # a media message whose upload never came is refused to its sender
    ):
        assert function.role is not None
        Validations.of(function.role).acknowledge(
            *(
                Acknowledgment(
                    id=_rule(
                        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:"
                        f"<AWS::AccountId>:{api_token}/{websocket.stage.stage_name}/{method}/@connections/*]"
                    ),
                    reason="Connection ids are made by API Gateway at connect time: one method on any connection "
                    "of this API's stage is the narrowest grant that can reach them.",
                )
                for method in ("POST", "DELETE")
            )
        )
    if websocket.account_logging_role is not None:
        Validations.of(websocket.account_logging_role).acknowledge(
            Acknowledgment(
                id=_rule(
                    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AmazonAPIGatewayPushToCloudWatchLogs]"
                ),
                reason="The account's API Gateway logging role (one per account and region) writes the logs of "
                "every API of the account into groups API Gateway names itself; AWS documents this managed "
                "policy for it, and no app-scoped policy can cover the other APIs that share the role.",
            )
        )


def _acknowledge_distributions(stateless: StatelessStack) -> None:
    """The media CDN and Pinhole Web are configured alike (OAC, HTTPS only, GET/HEAD, logging v2, the WAF)."""
    served = {
        stateless.media.distribution: "Media renditions are served worldwide; no country is excluded by the product.",
        stateless.web.distribution: "Pinhole Web is offered worldwide, like its API; no country is excluded.",
    }
    for distribution, audience in served.items():
        acknowledgements = [
            Acknowledgment(id=_rule("AwsSolutions-CFR1"), reason=audience),
            Acknowledgment(
                id=_rule("AwsSolutions-CFR3"),
                reason="Access logs go through standard logging v2 (CloudWatch vended logs delivered to the "
                "access-logs bucket: stacks/stateless/edge.py CloudFrontAccessLogs), which cdk-nag does not see; "
                "the legacy Logging property would need ACLs on the bucket.",
            ),
            Acknowledgment(
                id=_rule("AwsSolutions-CFR4"),
                reason="The default *.cloudfront.net certificate is used until a custom domain exists; "
                "CloudFront then negotiates TLS 1.2+ through the custom certificate's security policy.",
            ),
        ]
        if stateless.firewall is None:
            acknowledgements.append(
                Acknowledgment(
                    id=_rule("AwsSolutions-CFR2"),
                    reason="Context waf is off (the default outside production): the distribution serves only "
                    "static objects from S3 via OAC (GET/HEAD, no origin compute).",
                )
            )
        Validations.of(distribution).acknowledge(*acknowledgements)


def _acknowledge_web_app(stateless: StatelessStack) -> None:
    web = stateless.web
    Validations.of(web.bucket).acknowledge(
        Acknowledgment(
            id=_rule("AwsSolutions-S1"),
            reason="The bucket holds only the web client's public static files, written by the deployment; "
            "every read goes through CloudFront (OAC), whose access log records it.",
        )
    )
    Validations.of(web.deployment_role).acknowledge(
        Acknowledgment(
            id=_rule("AwsSolutions-IAM5[Resource::*]"),
            reason="X-Ray tracing of CDK's deployment function: xray:PutTraceSegments and "
            "xray:PutTelemetryRecords do not support resource-level permissions.",
        ),
        Acknowledgment(
            id=_rule("AwsSolutions-IAM5[Resource::<WebAppWebBucket5092C7BF.Arn>/*]"),
            reason="The deployment writes and replaces every file of the web client: the whole web bucket is "
            "its destination, and nothing else lives there.",
        ),
        Acknowledgment(
            id=_rule(
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-"
                "<AWS::Region>/*]"
            ),
            reason="The deployment reads the app's files from the CDK bootstrap assets bucket, under keys "
            "(content hashes) only known at deploy time; read-only.",
        ),
    )


def _acknowledge_uploads_cors(stateless: StatelessStack) -> None:
    """The role of CDK's AwsCustomResource provider that sets the uploads bucket's CORS (UploadsCors)."""
    Validations.of(stateless.uploads_cors.role).acknowledge(
        Acknowledgment(
            id=_rule("AwsSolutions-IAM5[Resource::*]"),
            reason="X-Ray tracing of CDK's AwsCustomResource provider: xray:PutTraceSegments and "
            "xray:PutTelemetryRecords do not support resource-level permissions.",
        )
    )


def _acknowledge_stateful_plumbing(stateful: StatefulStack) -> None:
    Validations.of(stateful.secrets.cursor_secret).acknowledge(
        Acknowledgment(
            id=_rule("AwsSolutions-SMG4"),
            reason="The cursor key seals page positions only: rotating it would only invalidate "
            "cursors in flight, and it never leaves Secrets Manager except to the API functions.",
        )
    )
    for dead_letters in (
        stateful.media.upload_events_dlq,
        stateful.media.transcode_unsettled,
        stateful.feed.fanout_dlq,
        stateful.notifications.dlq,
        stateful.privacy.purge_dlq,
        stateful.privacy.export_dlq,
        stateful.media_invalidations.dlq,
        stateful.push.dlq,
    ):
        Validations.of(dead_letters).acknowledge(
            Acknowledgment(
                id=_rule("Serverless-SQSRedrivePolicy"),
                reason="This is a dead-letter queue; a DLQ of a DLQ would only hide messages further from the "
                "alarm that watches this one.",
            )
        )
    # CDK's own custom resource that writes the bucket notification configuration.
    handler = stateful.node.try_find_child("BucketNotificationsHandler050a0587b7544547bf325f094a3db834")
    if handler is not None:
        Validations.of(handler).acknowledge(
            Acknowledgment(
                id=_rule("AwsSolutions-IAM5[Resource::*]"),
                reason="CDK's BucketNotificationsHandler needs s3:PutBucketNotification on the buckets it "
                "configures, which CDK grants on '*'.",
            ),
            *(
                Acknowledgment(
                    id=_rule(rule),
                    reason="CDK's BucketNotificationsHandler is CDK's own deploy-time custom resource: its "
                    "runtime and retries are CDK's (memory, tracing and logs are set in media_construct.py), "
                    "run once per deployment.",
                )
                for rule in (
                    "AwsSolutions-L1",
                    "Serverless-LambdaDLQ",
                    "Serverless-LambdaLatestVersion",
                )
            ),
        )


def _acknowledge_media_pipeline(stateless: StatelessStack) -> None:
    for function, buckets, prefixes in (
        (stateless.upload.function, ["UploadsBucket"], ["posts"]),
        (stateless.upload.function, ["UploadsBucket", "MediaBucket"], ["avatars"]),
        (stateless.resize.function, ["UploadsBucket", "MediaBucket"], ["posts", "avatars"]),
        (stateless.resize.cleanup, ["MediaBucket"], ["posts"]),
        (stateless.transcode.function, ["UploadsBucket", "MediaBucket"], ["posts"]),
        # A purge deletes every object of the user, an export reads their originals and writes the zip.
        (stateless.privacy.purge, ["UploadsBucket"], ["posts", "avatars", "exports"]),
        (stateless.privacy.purge, ["MediaBucket"], ["avatars"]),
        (stateless.privacy.export, ["UploadsBucket"], ["posts", "avatars", "exports"]),
        (stateless.privacy.function, ["UploadsBucket"], ["exports"]),
    ):
        assert function.role is not None
        Validations.of(function.role).acknowledge(
            *(
                Acknowledgment(
                    id=_rule(f"AwsSolutions-IAM5[Resource::{resource}]"),
                    reason="Object keys are per post and media item (posts/<post>/<media>...) or per user and "
                    "avatar (avatars/<user>/<avatar>...) or per user and export (exports/<user>/<date>.zip), "
                    "chosen by the server: the prefix is the narrowest scope that covers them.",
                )
                for prefix in prefixes
                for resource in _object_prefix_resources(buckets, prefix)
            )
        )
    message_media = (
        _object_prefix_resources(["UploadsBucket"], "messages")[0],
        _object_prefix_resources(["MessageMediaBucket"], "conversations")[0],
    )
    for function in (
        stateless.resize.function,
        stateless.transcode.function,
        stateless.messaging.function,
        stateless.messaging.websocket,
        stateless.privacy.purge,  # a purged account's photo messages: erased, or moved with the other side
        stateless.privacy.export,  # the originals of the photo messages they sent
    ):
        assert function.role is not None
        Validations.of(function.role).acknowledge(
            *(
                Acknowledgment(
                    id=_rule(f"AwsSolutions-IAM5[Resource::{resource}]"),
                    reason="Photo and video messages' keys are per conversation and message (messages/<conversation>/"
                    "<message>/<media>, conversations/<conversation>/<message>/...), chosen by the server: "
                    "the prefix is the narrowest scope that covers them.",
                )
                for resource in message_media
            )
        )
    for function, what in (
        (stateless.transcode.dead_letter, "A video message given up on"),
        (stateless.messaging.sweep, "A media message whose upload never came"),
    ):
        assert function.role is not None
        Validations.of(function.role).acknowledge(
            *(
                Acknowledgment(
                    id=_rule(f"AwsSolutions-IAM5[Resource::{resource}]"),
                    reason=f"{what} whose sender left is dropped with its uploaded file and renditions, keyed "
                    "per conversation and message (messages/<conversation>/<message>/<media>, "
                    "conversations/<conversation>/<message>/...): the prefix is the narrowest scope that covers "
                    "them.",
                )
                for resource in message_media
            )
        )
    routes = stateless.stream_routes
    for queue in [router.failures for router in routes.routers.values()]:
        Validations.of(queue).acknowledge(
            Acknowledgment(
                id=_rule("AwsSolutions-SQS3"),
                reason="This queue is the on-failure destination of a stream mapping: it is the "
                "dead-letter queue, watched by an alarm.",
            ),
            Acknowledgment(
                id=_rule("Serverless-SQSRedrivePolicy"),
                reason="This queue is the on-failure destination of a stream mapping: it is the "
                "dead-letter queue, watched by an alarm.",
            ),
        )
    for dead_letters in routes.dead_letter_queues:
        Validations.of(dead_letters).acknowledge(
            Acknowledgment(
                id=_rule("Serverless-SQSRedrivePolicy"),
                reason="This is a dead-letter queue of routed stream records; a DLQ of a DLQ would only hide "
                "records further from the alarm that watches this one.",
            )
        )
    overflow_grants = [
        *routes.overflow_readers,
        *((router.function, table) for table, router in routes.routers.items()),
    ]
    for function, table in overflow_grants:
        assert function.role is not None
        Validations.of(function.role).acknowledge(
            Acknowledgment(
                id=_rule(
                    f"AwsSolutions-IAM5[Resource::{_object_prefix_resources(['StreamOverflowBucket'], table)[0]}]"
                ),
                reason="Overflowed stream records are keyed <table>/<event id>.json, one per record: the table's "
                "prefix is the narrowest scope that covers a router's writes and its consumers' reads.",
            )
        )
    for consumer in (
        stateless.resize.function,
        stateless.resize.invalidator,
        stateless.transcode.function,
        stateless.feed_fanout.deliver,
        stateless.notifications.deliver,
        *routes.consumers,
        stateless.push.deliver,
        stateless.privacy.purge,
        stateless.privacy.export,
    ):
        Validations.of(consumer).acknowledge(
            Acknowledgment(
                id=_rule("Serverless-LambdaEventSourceMappingDestination"),
                reason="SQS event sources have no on-failure destination: failed messages return to the queue "
                "and its redrive policy moves them to the dead-letter queue, which has an alarm.",
            )
        )
    Validations.of(stateless.transcode.dead_letter).acknowledge(
        Acknowledgment(
            id=_rule("Serverless-LambdaEventSourceMappingDestination"),
            reason="SQS event sources have no on-failure destination: what this consumer of the transcode "
            "dead-letter queue fails on moves to that queue's own dead-letter queue, which has an alarm.",
        )
    )
    for schedule in (stateless.upload.sweep_schedule, stateless.messaging.sweep_schedule):
        Validations.of(schedule).acknowledge(
            Acknowledgment(
                id=_rule("Serverless-EventBusDLQ"),
                reason="The sweep is idempotent and scheduled every five minutes: a failed run is redone by the "
                "next one, so a dead-letter queue would hold nothing worth replaying.",
            )
        )


def _object_prefix_resources(bucket_ids: list[str], prefix: str = "posts") -> list[str]:
    exports = {
        "UploadsBucket": "PinholeStateful:ExportsOutputFnGetAttMediaStorageUploadsBucket4D3E9369ArnF9B1E77F",
        "MediaBucket": "PinholeStateful:ExportsOutputFnGetAttMediaStorageMediaBucket32B4F6A9Arn0DB9D511",
        "StreamOverflowBucket": "PinholeStateful:ExportsOutputFnGetAttStreamOverflowOverflowBucketDD2F4C99ArnE068D517",
        "MessageMediaBucket": "PinholeStateful:ExportsOutputFnGetAttMediaStorageMessageMediaBucketB6450928ArnC5E8DCC4",
    }
    return [f"{exports[bucket]}/{prefix}/*" for bucket in bucket_ids]


def _acknowledge_push(stateful: StatefulStack, stateless: StatelessStack) -> None:
    """The grants on Pinhole's platform applications' endpoints; with push credentials named (context
    `push_*_secret`), the platform applications' custom resources."""
    Validations.of(stateless.push).acknowledge(  # both functions' roles
        *(
            Acknowledgment(
                id=_rule(
                    f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sns:<AWS::Region>:<AWS::AccountId>:{resource}]"
                ),
                reason="SNS makes one platform endpoint per device token at run time, named by an id it "
                "chooses, under a platform application named by the stack: the endpoints and applications of "
                "Pinhole's own platform applications (`<stateful stack>-<platform>`), and no other, are granted.",
            )
            for resource in (stateless.push.endpoint_resource, stateless.push.application_resource)
        )
    )
    Validations.of(stateless.auth).acknowledge(  # signing out everywhere deletes the account's endpoints
        Acknowledgment(
            id=_rule(
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sns:<AWS::Region>:<AWS::AccountId>:"
                f"{stateless.push.endpoint_resource}]"
            ),
            reason="Signing out everywhere deletes the account's SNS platform endpoints, named by ids SNS chose: "
            "the endpoints of Pinhole's own platform applications, and no other, are granted (DeleteEndpoint only).",
        )
    )
    assert stateless.privacy.purge.role is not None
    Validations.of(stateless.privacy.purge.role).acknowledge(  # a purge deletes the account's endpoints
        Acknowledgment(
            id=_rule(
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sns:<AWS::Region>:<AWS::AccountId>:"
                f"{stateless.push.endpoint_resource}]"
            ),
            reason="A purge deletes the account's SNS platform endpoints, named by ids SNS chose: the endpoints "
            "of Pinhole's own platform applications, and no other, are granted (DeleteEndpoint only).",
        )
    )
    provider = stateful.node.try_find_child(AWS_CUSTOM_RESOURCE_PROVIDER_ID)
    if provider is None:
        return
    Validations.of(stateful.push_platforms).acknowledge(
        Acknowledgment(
            id=_rule("AwsSolutions-IAM5[Resource::*]"),
            reason="sns:CreatePlatformApplication has no resource type: IAM can only grant it on '*'. The "
            "other calls are granted on the application's own ARN.",
        )
    )
    Validations.of(provider).acknowledge(
        *(
            Acknowledgment(
                id=_rule(rule),
                reason="CDK's AwsCustomResource provider makes the SNS platform applications once per deployment "
                "(CloudFormation has no resource for them); its runtime, role and retries are CDK's, and "
                "CloudFormation itself reports a failed call.",
            )
            for rule in (
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                "AwsSolutions-L1",
                "Serverless-LambdaDLQ",
                "Serverless-LambdaDefaultMemorySize",
                "Serverless-LambdaTracing",
            )
        )
    )
