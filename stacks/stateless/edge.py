"""What every CloudFront distribution of the app gets (the media CDN's now; the web app's next): access logs
through standard logging v2, and the edge firewall (a WAF web ACL). Reusable: a new distribution takes
`CloudFrontAccessLogs(self, "AccessLogs", distribution=..., bucket=..., prefix=...)` and
`web_acl_id=firewall.web_acl_arn`.

CloudFront is global, but it reads both from one region: a CLOUDFRONT-scoped web ACL and the delivery
source of its access logs exist only in us-east-1 (`require_cloudfront_region`, docs/INFRASTRUCTURE.md)."""

from aws_cdk import Aws, CfnRule, CfnRuleAssertion, Duration, Fn, Names, Stack, Token
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from stacks.constants import CLOUDFRONT_REGION
from stacks.stage import UnsafeConfiguration

CLOUDFRONT_REGION_RULE_ID = "CloudFrontEdgeInUsEast1"
# {DistributionId} keeps each distribution's logs apart in one bucket; the hour folders suit Athena partitions.
ACCESS_LOG_SUFFIX_PATH = "{DistributionId}/{yyyy}/{MM}/{dd}/{HH}"
ACCESS_LOG_FORMAT = "w3c"  # the fields and order of standard logging (legacy): existing log tools keep working
RATE_LIMIT_WINDOW = Duration.minutes(5)
COMMON_RULE_SET = "AWSManagedRulesCommonRuleSet"


def require_cloudfront_region(stack: Stack) -> None:
    """Synth refuses a stack pinned to another region; an environment-agnostic one carries a CloudFormation rule
    that stops its deployment anywhere else before anything is created."""
    if Token.is_unresolved(stack.region):
        CfnRule(
            stack,
            CLOUDFRONT_REGION_RULE_ID,
            assertions=[
                CfnRuleAssertion(
                    assert_=Fn.condition_equals(Aws.REGION, CLOUDFRONT_REGION),
                    assert_description=f"{stack.stack_name} holds CloudFront's web ACL and log delivery source, which "
                    f"AWS creates only in {CLOUDFRONT_REGION}: deploy it there (docs/INFRASTRUCTURE.md, Region).",
                )
            ],
        )
    elif stack.region != CLOUDFRONT_REGION:
        raise UnsafeConfiguration(
            f"{stack.stack_name} is pinned to {stack.region}, but CloudFront's web ACL and log delivery source exist "
            f"only in {CLOUDFRONT_REGION}: deploy to {CLOUDFRONT_REGION} (docs/INFRASTRUCTURE.md, Region)"
        )


class CloudFrontAccessLogs(Construct):
    """A distribution's access logs as CloudWatch vended logs delivered to S3 (standard logging v2), which
    writes as the bucket owner: the bucket keeps ACLs disabled (BucketOwnerEnforced), unlike legacy logging.
    The bucket's policy must let `delivery.logs.amazonaws.com` write under `prefix` (stacks/stateful/media)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        distribution: cloudfront.IDistribution,
        bucket: s3.IBucket,
        prefix: str,
    ) -> None:
        super().__init__(scope, construct_id)
        source = logs.CfnDeliverySource(
            self,
            "Source",
            name=Names.unique_resource_name(self, max_length=60, separator="-"),
            log_type="ACCESS_LOGS",
            resource_arn=distribution.distribution_arn,
        )
        destination = logs.CfnDeliveryDestination(
            self,
            "Destination",
            name=Names.unique_resource_name(self, max_length=60, separator="-"),
            destination_resource_arn=f"{bucket.bucket_arn}/{prefix}",
            output_format=ACCESS_LOG_FORMAT,
        )
        self.delivery = logs.CfnDelivery(
            self,
            "Delivery",
            delivery_source_name=source.ref,
            delivery_destination_arn=destination.attr_arn,
            s3_suffix_path=ACCESS_LOG_SUFFIX_PATH,
        )


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )


class CloudFrontFirewall(Construct):
    """A CLOUDFRONT web ACL: AWS's managed common rule set (the OWASP-style bad inputs: oversized or malformed
    requests, known exploit patterns, no User-Agent), and a rate-based rule that blocks a source address past
    `requests_per_address` requests in 5 minutes, until its rate falls back. Everything else is allowed."""

    def __init__(self, scope: Construct, construct_id: str, *, requests_per_address: int) -> None:
        super().__init__(scope, construct_id)
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="CLOUDFRONT",
            description="Pinhole distributions - AWS managed common rules and a rate limit per source address",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility("PinholeEdge"),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name=COMMON_RULE_SET,
                    priority=0,
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS", name=COMMON_RULE_SET
                        )
                    ),
                    visibility_config=_visibility("PinholeEdgeCommonRules"),
                ),
                wafv2.CfnWebACL.RuleProperty(
                    name="RequestsPerSourceAddress",
                    priority=1,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            aggregate_key_type="IP",
                            limit=requests_per_address,
                            evaluation_window_sec=int(RATE_LIMIT_WINDOW.to_seconds()),
                        )
                    ),
                    visibility_config=_visibility("PinholeEdgeRatePerAddress"),
                ),
            ],
        )

    @property
    def web_acl_arn(self) -> str:
        """What a distribution takes as `web_acl_id`."""
        return self.web_acl.attr_arn
