"""media: renditions are served only through CloudFront, over HTTPS, with security headers."""

from aws_cdk.assertions import Template


def _distribution(stateless) -> dict:
    ((_, distribution),) = Template.from_json(stateless).find_resources("AWS::CloudFront::Distribution").items()
    return distribution["Properties"]["DistributionConfig"]


def test_distribution_redirects_viewers_to_https(stateless) -> None:
    # Given the media distribution
    behavior = _distribution(stateless)["DefaultCacheBehavior"]

    # Then plain HTTP is redirected, and only reads are allowed
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert "CacheBehaviors" not in _distribution(stateless)


def test_distribution_reads_the_bucket_through_origin_access_control(stateless) -> None:
    # Given the media distribution's only origin
    (origin,) = _distribution(stateless)["Origins"]
    oac_id = origin["OriginAccessControlId"]["Fn::GetAtt"][0]
    oac = stateless["Resources"][oac_id]["Properties"]["OriginAccessControlConfig"]

    # Then it signs every request to the media bucket with OAC (no legacy OAI, no public website)
    assert "MediaBucket" in origin["DomainName"]["Fn::ImportValue"]
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert oac["OriginAccessControlOriginType"] == "s3"
    assert oac["SigningBehavior"] == "always"
    assert oac["SigningProtocol"] == "sigv4"


def test_distribution_sends_security_headers_and_caches_optimized(stateless) -> None:
    # Given the default behaviour's response headers policy
    behavior = _distribution(stateless)["DefaultCacheBehavior"]
    policy = stateless["Resources"][behavior["ResponseHeadersPolicyId"]["Ref"]]["Properties"]
    headers = policy["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]

    # Then browsers are told not to sniff content types and to stay on HTTPS
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["StrictTransportSecurity"]["Override"] is True
    # And the managed CachingOptimized policy is used
    assert behavior["CachePolicyId"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"


def test_distribution_logs_access(stateless) -> None:
    # Given the media distribution
    logging = _distribution(stateless)["Logging"]

    # Then requests are logged to the access-logs bucket
    assert "AccessLogsBucket" in logging["Bucket"]["Fn::ImportValue"]
