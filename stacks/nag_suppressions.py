"""Every cdk-nag finding Pinhole acknowledges, each with the reason it is acceptable. Nothing else
is acknowledged anywhere: a new finding fails synth (`make synth`) and tests/infrastructure.

cdk-nag v3 rides on CDK's validation framework: an acknowledgement is metadata on the construct
(and covers its children); findings with a suffix (IAM5[...]) are acknowledged one by one."""

from aws_cdk import Acknowledgment, Validations

from stacks.stateful_stack import StatefulStack
from stacks.stateless_stack import StatelessStack


def _rule(rule_id: str) -> str:
    """The validation-framework id of a cdk-nag rule: `<pack>::<rule>` (e.g. AwsSolutions::AwsSolutions-L1);
    a bare id would be read as a construct-annotation id."""
    return f"{rule_id.split('-', 1)[0]}::{rule_id}"


def acknowledge_findings(stateful: StatefulStack, stateless: StatelessStack) -> None:
    _acknowledge_identity(stateful)
    _acknowledge_functions(stateless)
    _acknowledge_public_routes(stateless)
    _acknowledge_websocket_shell(stateless)
    _acknowledge_media_cdn(stateless)


def _acknowledge_identity(stateful: StatefulStack) -> None:
    Validations.of(stateful.auth.user_pool).acknowledge(
        Acknowledgment(
            id=_rule("AwsSolutions-COG1"),
            reason="The policy is pinhole.auth.password_policy (one source of truth, checked at sign-up too): "
            "length 10 with upper, lower and digits; no symbol rule, following NIST SP 800-63B on composition rules.",
        ),
        Acknowledgment(
            id=_rule("AwsSolutions-COG2"),
            reason="MFA is not part of the product yet (API.md has no MFA flow); a consumer photo app with "
            "password login, planned as a later issue.",
        ),
        Acknowledgment(
            id=_rule("AwsSolutions-COG8"),
            reason="The Essentials feature plan is enough for username/password login; threat protection "
            "(Plus plan, priced per MAU) is a cost decision for launch, not for this stage.",
        ),
    )


def _acknowledge_functions(stateless: StatelessStack) -> None:
    for context in (stateless.auth, stateless.users, stateless.meta, stateless.messaging):
        function = context.function
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
                reason="Invoked synchronously by API Gateway (HTTP and WebSocket): the caller gets the error; "
                "a DLQ only applies to asynchronous invocations.",
            ),
        )
        assert function.role is not None
        Validations.of(function.role).acknowledge(
            Acknowledgment(
                id=_rule("AwsSolutions-IAM5[Resource::*]"),
                reason="X-Ray tracing (Tracing.ACTIVE): xray:PutTraceSegments and xray:PutTelemetryRecords "
                "do not support resource-level permissions.",
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


def _acknowledge_websocket_shell(stateless: StatelessStack) -> None:
    websocket = stateless.websocket_api
    Validations.of(websocket.default_route).acknowledge(
        Acknowledgment(
            id=_rule("AwsSolutions-APIG4"),
            reason="WebSocket shell: the $connect route with its Lambda REQUEST authorizer comes with the "
            "messaging issue; until then $default reaches a function that does nothing with the frame.",
        )
    )
    Validations.of(websocket.stage).acknowledge(
        Acknowledgment(
            id=_rule("AwsSolutions-APIG1"),
            reason="WebSocket access logs need the account-wide API Gateway CloudWatch role "
            "(AWS::ApiGateway::Account), a per-account decision taken with the messaging issue.",
        ),
        Acknowledgment(
            id=_rule("Serverless-APIGWAccessLogging"),
            reason="WebSocket access logs need the account-wide API Gateway CloudWatch role "
            "(AWS::ApiGateway::Account), a per-account decision taken with the messaging issue.",
        ),
    )


def _acknowledge_media_cdn(stateless: StatelessStack) -> None:
    Validations.of(stateless.media.distribution).acknowledge(
        Acknowledgment(
            id=_rule("AwsSolutions-CFR1"),
            reason="Media renditions are served worldwide; no country is excluded by the product.",
        ),
        Acknowledgment(
            id=_rule("AwsSolutions-CFR2"),
            reason="The distribution serves only immutable, unguessable rendition keys from S3 via OAC "
            "(GET/HEAD, no origin compute); WAF is planned with the custom domain.",
        ),
        Acknowledgment(
            id=_rule("AwsSolutions-CFR4"),
            reason="The default *.cloudfront.net certificate is used until a custom domain exists; "
            "CloudFront then negotiates TLS 1.2+ through the custom certificate's security policy.",
        ),
    )
