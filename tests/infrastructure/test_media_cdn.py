"""media: renditions are served only through CloudFront, with security headers (HTTPS only and OAC:
test_guarantees.py)."""

from aws_cdk.assertions import Template


def _distribution(stateless) -> dict:
    ((_, distribution),) = Template.from_json(stateless).find_resources("AWS::CloudFront::Distribution").items()
    return distribution["Properties"]["DistributionConfig"]


def test_distribution_allows_only_reads(stateless) -> None:
    # Given the media distribution (HTTPS only: test_guarantees.py)
    behavior = _distribution(stateless)["DefaultCacheBehavior"]

    # Then only reads are allowed, with one behaviour for every path
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert "CacheBehaviors" not in _distribution(stateless)


def test_distribution_reads_the_media_bucket(stateless) -> None:
    # Given the media distribution's only origin (signed with OAC: test_guarantees.py)
    (origin,) = _distribution(stateless)["Origins"]

    # Then it is the media bucket (renditions), never the uploads bucket (originals)
    assert "MediaBucket" in origin["DomainName"]["Fn::ImportValue"]


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


def test_distribution_lets_web_video_players_read_renditions_from_any_origin(stateless) -> None:
    # Given the default behaviour's response headers policy
    behavior = _distribution(stateless)["DefaultCacheBehavior"]
    policy = stateless["Resources"][behavior["ResponseHeadersPolicyId"]["Ref"]]["Properties"]
    cors = policy["ResponseHeadersPolicyConfig"]["CorsConfig"]

    # Then an HLS player in a browser (XHR for playlists and segments, Range for MP4s) may read, without credentials
    assert cors["AccessControlAllowOrigins"]["Items"] == ["*"]
    assert cors["AccessControlAllowCredentials"] is False
    assert set(cors["AccessControlAllowMethods"]["Items"]) == {"GET", "HEAD"}
    assert cors["AccessControlAllowHeaders"]["Items"] == ["Range"]
