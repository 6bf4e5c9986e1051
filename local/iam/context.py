"""The request context: the condition keys AWS sets for a Lambda function's SDK call, as far as modelled.

A key listed in MODELLED_KEYS is one this package knows how AWS sets for the calls Pinhole makes: it is in
the context when AWS would put it there and absent otherwise (aws:SourceArn is set only for requests a
service makes on someone's behalf, never for a role session's own call). A policy naming any other key is
refused when it is parsed (`PolicyNotUnderstood`): add the key here, and where the operation mapper sets
it, before a policy may use it.
"""

from __future__ import annotations

from collections.abc import Mapping

GLOBAL_KEYS = frozenset(
    {
        "aws:securetransport",  # handlers reach AWS over HTTPS only
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principaltype",
        "aws:userid",
        "aws:requestedregion",
        "aws:viaawsservice",
        # Set only when a service acts for someone (S3 notifications, CloudFront OAC): absent for handlers.
        "aws:sourcearn",
        "aws:sourceaccount",
        "aws:sourceowner",
        "aws:calledvia",
    }
)
S3_KEYS = frozenset({"s3:prefix", "s3:delimiter", "s3:max-keys"})
MODELLED_KEYS = GLOBAL_KEYS | S3_KEYS


def global_context(role_arn: str, account: str, region: str, role_id: str, session_name: str) -> dict[str, str]:
    """What AWS sets for every call of a role session made straight from the function's code."""
    return {
        "aws:SecureTransport": "true",
        "aws:PrincipalArn": role_arn,
        "aws:PrincipalAccount": account,
        "aws:PrincipalType": "AssumedRole",
        "aws:userid": f"{role_id}:{session_name}",
        "aws:RequestedRegion": region,
        "aws:ViaAWSService": "false",
    }


def normalized(context: Mapping[str, str | tuple[str, ...] | list[str]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Lower-cased keys (condition keys are case-insensitive), tuple values, sorted: hashable for caching."""
    items = []
    for key, value in context.items():
        values = (value,) if isinstance(value, str) else tuple(value)
        items.append((key.lower(), values))
    return tuple(sorted(items))
