"""media: the CloudFront distribution in front of the media bucket (OAC, HTTPS only, security headers, the
edge firewall when there is one, access logs through standard logging v2)."""

from aws_cdk import Duration
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks import constants
from stacks.stateless.edge import CloudFrontAccessLogs

HSTS_MAX_AGE = Duration.days(365)
# Web players (hls.js, MSE) fetch HLS playlists and segments with XHR: renditions are public by URL, so any origin
# may read them, without credentials; Range is how players fetch parts of an MP4.
CORS_MAX_AGE = Duration.days(1)


def security_headers(content_security_policy: str | None = None) -> cloudfront.ResponseSecurityHeadersBehavior:
    """What both distributions (media, web) add to every response: nosniff, HSTS, no framing, a strict
    referrer policy, and the Content-Security-Policy when one is given."""
    return cloudfront.ResponseSecurityHeadersBehavior(
        content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
            content_security_policy=content_security_policy, override=True
        )
        if content_security_policy
        else None,
        content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
        strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
            access_control_max_age=HSTS_MAX_AGE, include_subdomains=True, override=True
        ),
        frame_options=cloudfront.ResponseHeadersFrameOptions(
            frame_option=cloudfront.HeadersFrameOption.DENY, override=True
        ),
        referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
            referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override=True
        ),
    )


class MediaCdn(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        media_bucket: s3.IBucket,
        access_logs_bucket: s3.IBucket,
        web_acl_arn: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        headers = cloudfront.ResponseHeadersPolicy(
            self,
            constants.MEDIA_HEADERS_POLICY_ID,
            comment="Pinhole media: security headers, CORS for web video players",
            cors_behavior=cloudfront.ResponseHeadersCorsBehavior(
                access_control_allow_credentials=False,
                access_control_allow_headers=["Range"],
                access_control_allow_methods=["GET", "HEAD"],
                access_control_allow_origins=["*"],
                access_control_expose_headers=["Content-Length", "Content-Range"],
                access_control_max_age=CORS_MAX_AGE,
                origin_override=True,
            ),
            security_headers_behavior=security_headers(),
        )
        self.distribution = cloudfront.Distribution(
            self,
            constants.MEDIA_DISTRIBUTION_ID,
            comment="Pinhole media renditions",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(media_bucket),
                # HTTPS only, not a redirect: a plain-HTTP request never reaches the origin nor gets a 301 to follow.
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
            prefix=f"{constants.CLOUDFRONT_LOGS_PREFIX}media",
        )

    @property
    def base_url(self) -> str:
        return f"https://{self.distribution.distribution_domain_name}"
