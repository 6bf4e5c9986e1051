"""web: Pinhole Web (web/dist, built by `make web`) in its own private bucket behind CloudFront (OAC,
HTTPS only, a strict Content-Security-Policy), the config.json that tells it where the APIs are,
written at deploy time from the stack's own values, and the uploads bucket's CORS, which names the app's
origin (known only once its distribution exists) so that one `cdk deploy` lets the app upload."""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import cast

from aws_cdk import Aws, DefaultStackSynthesizer, Fn, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3_deployment
from aws_cdk import custom_resources as cr
from constructs import Construct

from stacks import constants
from stacks.function_factory import LOG_RETENTION
from stacks.stateful.media_construct import ABORT_MULTIPART_AFTER
from stacks.stateless.edge import CloudFrontAccessLogs
from stacks.stateless.media_construct import security_headers
from stacks.web_policy import content_security_policy

IMMUTABLE = "public, max-age=31536000, immutable"  # assets/ names carry their content hash
REVALIDATE = "no-cache"  # index.html and config.json: a deploy shows at once
DEPLOYMENT_MEMORY_MB = 256
UPLOAD_CORS_MAX_AGE_S = 3000
CORS_CALL_MEMORY_MB = 128  # one S3 call
AWS_CUSTOM_RESOURCE_PROVIDER_ID = "AWS679f53fac002430cb0da5b7982bd2287"  # CDK's singleton, one per stack
BOOTSTRAP_QUALIFIER_CONTEXT = "@aws-cdk/core:bootstrapQualifier"


class WebApp(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dist: Path,
        access_logs_bucket: s3.IBucket,
        web_acl_arn: str | None,
        connect_sources: Sequence[str],
        media_sources: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.dist = dist
        if not (dist / "index.html").is_file():
            raise FileNotFoundError(f"{dist}/index.html is missing: build Pinhole Web first (`make web`)")
        self.bucket = s3.Bucket(
            self,
            constants.WEB_BUCKET_ID,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(id="abort-multipart", abort_incomplete_multipart_upload_after=ABORT_MULTIPART_AFTER)
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        headers = cloudfront.ResponseHeadersPolicy(
            self,
            constants.WEB_HEADERS_POLICY_ID,
            comment="Pinhole Web: security headers and CSP",
            security_headers_behavior=security_headers(
                content_security_policy(connect=connect_sources, media=media_sources)
            ),
        )
        # The media distribution's settings (stacks/stateless/media_construct.py), plus a root object.
        self.distribution = cloudfront.Distribution(
            self,
            constants.WEB_DISTRIBUTION_ID,
            comment="Pinhole Web",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
                compress=True,
            ),
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            web_acl_id=web_acl_arn,
        )
        CloudFrontAccessLogs(
            self,
            constants.MEDIA_ACCESS_LOGS_ID,
            distribution=self.distribution,
            bucket=access_logs_bucket,
            prefix=f"{constants.CLOUDFRONT_LOGS_PREFIX}web",
        )

    deployment_role: iam.Role

    @property
    def origin(self) -> str:
        """What browsers send as `Origin` from the app (the HTTP API's CORS allows it)."""
        return f"https://{self.distribution.distribution_domain_name}"

    @property
    def url(self) -> str:
        return f"{self.origin}/"

    def deploy_config(self, config: Mapping[str, str]) -> None:
        """Deploys the app with its config.json (`config`: the stack's outputs the client reads).
        Hashed assets first (kept for a year, never pruned: a page loaded before a deploy still finds
        its script), then index.html and config.json (revalidated on every load), which point at them."""
        role, log_group = self._deployment_role()
        common = {
            "destination_bucket": self.bucket,
            "prune": False,
            "memory_limit": DEPLOYMENT_MEMORY_MB,
            "log_group": log_group,
            "role": role.without_policy_updates(),
        }
        assets = s3_deployment.BucketDeployment(
            self,
            constants.WEB_ASSETS_DEPLOYMENT_ID,
            sources=[s3_deployment.Source.asset(str(self.dist / "assets"))],
            destination_key_prefix="assets/",
            cache_control=[s3_deployment.CacheControl.from_string(IMMUTABLE)],
            **common,  # type: ignore[arg-type]
        )
        pages = s3_deployment.BucketDeployment(
            self,
            constants.WEB_PAGES_DEPLOYMENT_ID,
            sources=[
                s3_deployment.Source.asset(str(self.dist), exclude=["assets", "assets/*"]),
                s3_deployment.Source.json_data(constants.WEB_CONFIG_FILE, dict(config)),
            ],
            cache_control=[s3_deployment.CacheControl.from_string(REVALIDATE)],
            **common,  # type: ignore[arg-type]
        )
        pages.node.add_dependency(assets)
        self._hold_handler_to_our_function_rules(role)

    def _deployment_role(self) -> tuple[iam.Role, logs.LogGroup]:
        """CDK's deployment function with a role that names its actions (CDK's grants use globs such as
        s3:GetObject* and s3:List*, and AWSLambdaBasicExecutionRole writes to every log group)."""
        log_group = logs.LogGroup(self, "DeploymentLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY)
        role = iam.Role(self, "DeploymentRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        self.deployment_role = role
        qualifier = self.node.try_get_context(BOOTSTRAP_QUALIFIER_CONTEXT) or DefaultStackSynthesizer.DEFAULT_QUALIFIER
        bucket_name = DefaultStackSynthesizer.DEFAULT_FILE_ASSETS_BUCKET_NAME.replace("${Qualifier}", qualifier)
        assets_bucket = Fn.sub(bucket_name)  # where `cdk deploy` uploads the app's files
        statements = [
            (["logs:CreateLogStream", "logs:PutLogEvents"], [log_group.log_group_arn]),
            (["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"]),
            (["s3:GetObject"], [f"arn:{Aws.PARTITION}:s3:::{assets_bucket}/*"]),
            (["s3:ListBucket"], [self.bucket.bucket_arn]),
            (["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], [self.bucket.arn_for_objects("*")]),
        ]
        for actions, resources in statements:
            role.add_to_policy(iam.PolicyStatement(actions=actions, resources=resources))
        return role, log_group

    def _hold_handler_to_our_function_rules(self, role: iam.Role) -> None:
        """Active tracing, as every Pinhole function; and the role's policy in place before it runs."""
        stack = Stack.of(self)
        for child in stack.node.children:
            if child.node.id.startswith("Custom::CDKBucketDeployment"):
                function = cast(lambda_.CfnFunction, cast(Construct, child).node.default_child)
                function.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
                function.node.add_dependency(role)


class UploadsCors(Construct):
    """The uploads bucket's CORS (browsers POST pre-signed uploads to it), set by one S3 call when this stack
    is deployed: its origins are `cors_origins` and the web app's, whose distribution is made by this stack,
    so the stateful stack that owns the bucket cannot name it without the stacks depending on each other.
    This is the only owner of that CORS: the bucket's template declares none (two owners would overwrite
    each other whenever CloudFormation applied the bucket's property again). Updated whenever the origins
    change; removed with this stack (no app, no browser uploads)."""

    def __init__(self, scope: Construct, construct_id: str, *, bucket: s3.IBucket, origins: Sequence[str]) -> None:
        super().__init__(scope, construct_id)
        self.rules = [
            {
                "AllowedMethods": ["POST"],
                "AllowedOrigins": list(origins),
                "AllowedHeaders": ["*"],
                "MaxAgeSeconds": UPLOAD_CORS_MAX_AGE_S,
            }
        ]
        # CDK's provider function, with a role that writes to its own log group only (instead of
        # AWSLambdaBasicExecutionRole, which writes to every log group) and sends its traces
        log_group = logs.LogGroup(self, "Logs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY)
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        for actions, resources in (
            (["logs:CreateLogStream", "logs:PutLogEvents"], [log_group.log_group_arn]),
            (["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"]),
        ):
            self.role.add_to_policy(iam.PolicyStatement(actions=actions, resources=resources))
        put = cr.AwsSdkCall(
            service="S3",
            action="putBucketCors",
            parameters={"Bucket": bucket.bucket_name, "CORSConfiguration": {"CORSRules": self.rules}},
            physical_resource_id=cr.PhysicalResourceId.of(f"{bucket.bucket_name}-cors"),
        )
        self.resource = cr.AwsCustomResource(
            self,
            "Resource",
            on_create=put,
            on_update=put,
            on_delete=cr.AwsSdkCall(service="S3", action="deleteBucketCors", parameters={"Bucket": bucket.bucket_name}),
            # DeleteBucketCors is authorized by s3:PutBucketCORS too (S3 has no action of its own for it)
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [iam.PolicyStatement(actions=["s3:PutBucketCORS"], resources=[bucket.bucket_arn])]
            ),
            install_latest_aws_sdk=False,
            log_group=log_group,
            role=self.role,
            memory_size=CORS_CALL_MEMORY_MB,
        )
        # traced, as every Pinhole function (CDK's provider is a singleton of the stack)
        provider = cast(Construct, Stack.of(self).node.find_child(AWS_CUSTOM_RESOURCE_PROVIDER_ID))
        function = cast(lambda_.CfnFunction, provider.node.default_child)
        function.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
        function.node.add_dependency(self.role)  # its policy (logs, traces) in place before it runs
