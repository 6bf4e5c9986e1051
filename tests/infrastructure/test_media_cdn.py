"""media: renditions are served only through CloudFront, with security headers (HTTPS only and OAC:
test_guarantees.py)."""

from aws_cdk.assertions import Template

from stacks import constants


def _distribution(stateless) -> dict:
    ((_, distribution),) = [
        (logical_id, resource)
        for logical_id, resource in Template.from_json(stateless)
        .find_resources("AWS::CloudFront::Distribution")
        .items()
        if resource["Metadata"]["aws:cdk:path"].startswith(f"PinholeStateless/{constants.MEDIA_CDN_CONSTRUCT_ID}/")
    ]
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


def test_distribution_logs_access_into_the_access_logs_bucket(stateless) -> None:
    # Given the media distribution's log delivery (standard logging v2: test_guarantees.py)
    destinations = Template.from_json(stateless).find_resources("AWS::Logs::DeliveryDestination").values()
    (arn,) = [
        join
        for destination in destinations
        if (join := destination["Properties"]["DestinationResourceArn"]["Fn::Join"][1])[1] == "/cloudfront/media"
    ]

    # Then requests are logged to the access-logs bucket, in a folder of their own
    assert "AccessLogsBucket" in arn[0]["Fn::ImportValue"]
    assert arn[1] == "/cloudfront/media"


def test_a_missing_rendition_is_a_403_from_s3_not_a_404(stateful, stateless) -> None:
    # Given what CloudFront may do in the media bucket, and the distribution's error handling
    statements = [
        statement
        for policy in Template.from_json(stateful).find_resources("AWS::S3::BucketPolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Principal") == {"Service": "cloudfront.amazonaws.com"}
    ]
    actions = {
        action
        for statement in statements
        for action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
    }

    # Then CloudFront may read objects but not list the bucket, so S3 answers a missing key with 403
    # AccessDenied, and no custom error response turns it into anything else: what local/media.py answers
    assert actions == {"s3:GetObject"}
    assert "CustomErrorResponses" not in _distribution(stateless)


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
