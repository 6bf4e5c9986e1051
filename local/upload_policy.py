"""S3's checks of a browser-based (pre-signed) POST upload, which moto skips entirely.

Mirrors https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html:
SigV4 signature of the base64 policy, expiration, every condition, and every form field covered.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.auth import S3SigV4PostAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

SIGV4_ALGORITHM = "AWS4-HMAC-SHA256"
# Fields S3 does not require the policy to cover.
_UNCOVERED = {"policy", "x-amz-signature", "file"}


@dataclass
class S3Error(Exception):
    status: int
    code: str
    message: str
    extra: dict[str, str] | None = None

    def xml(self, request_id: str) -> str:
        extra = "".join(f"<{name}>{_escape(value)}</{name}>" for name, value in (self.extra or {}).items())
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{self.code}</Code><Message>{_escape(self.message)}</Message>{extra}"
            f"<RequestId>{request_id}</RequestId><HostId>local</HostId></Error>"
        )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


@dataclass(frozen=True)
class AcceptedUpload:
    bucket: str
    key: str
    content_type: str
    metadata: dict[str, str]
    success_action_status: int
    access_key_id: str = ""  # whose credentials signed the policy


def policy_signature(policy_b64: str, access_key: str, secret_key: str, date: str, region: str) -> str:
    """The signature botocore's S3SigV4PostAuth gives this policy: the policy signed with the SigV4 key of the
    credential's day and region (the check computes it with the very signer clients use, not a copy of it)."""
    signer = S3SigV4PostAuth(ReadOnlyCredentials(access_key, secret_key, None), "s3", region)
    request = AWSRequest()
    request.context["timestamp"] = f"{date}T000000Z"  # the key is the day's: only the date is read
    return str(signer.signature(policy_b64, request))


def _policy_failed(condition: Any) -> S3Error:
    message = f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}"
    return S3Error(403, "AccessDenied", message)


def _require(fields: dict[str, str], name: str) -> str:
    if name not in fields:
        raise S3Error(
            400,
            "InvalidArgument",
            f"Bucket POST must contain a field named '{name}'.  "
            "If it is specified, please check the order of the fields.",
        )
    return fields[name]


def check_post_upload(
    *,
    bucket: str,
    form: list[tuple[str, str]],
    file_size: int,
    filename: str | None,
    secrets: dict[str, str],
    now: datetime | None = None,
) -> AcceptedUpload:
    """The upload S3 would accept for this form, or the S3Error it would answer with."""
    now = now or datetime.now(UTC)
    # S3 form field names are case-insensitive; the first occurrence wins.
    fields: dict[str, str] = {}
    for name, value in form:
        fields.setdefault(name.lower(), value)
    key = _require(fields, "key")
    if filename is not None:
        key = key.replace("${filename}", filename)
    fields["key"] = key
    fields["bucket"] = bucket
    policy_b64 = fields.get("policy")
    if policy_b64 is None:
        raise S3Error(403, "AccessDenied", "Access Denied")
    access_key_id = _check_signature(fields, policy_b64, secrets)
    policy = _decode_policy(policy_b64)
    _check_expiration(policy, now)
    conditions = policy.get("conditions")
    if not isinstance(conditions, list):
        raise S3Error(400, "InvalidPolicyDocument", "Invalid Policy: Invalid 'conditions' value: must be a List.")
    covered = _check_conditions(conditions, fields, file_size)
    extra = sorted(name for name in fields if name not in covered | _UNCOVERED and not name.startswith("x-ignore-"))
    if extra:
        raise S3Error(403, "AccessDenied", f"Invalid according to Policy: Extra input fields: {extra[0]}")
    status_field = fields.get("success_action_status", "204")
    status = int(status_field) if status_field in ("200", "201", "204") else 204
    return AcceptedUpload(
        bucket=bucket,
        key=key,
        content_type=fields.get("content-type", "binary/octet-stream"),
        metadata={
            name.removeprefix("x-amz-meta-"): value for name, value in fields.items() if name.startswith("x-amz-meta-")
        },
        success_action_status=status,
        access_key_id=access_key_id,
    )


def _check_signature(fields: dict[str, str], policy_b64: str, secrets: dict[str, str]) -> str:
    """The access key id that signed the policy, if the signature holds."""
    algorithm = _require(fields, "x-amz-algorithm")
    if algorithm != SIGV4_ALGORITHM:
        raise S3Error(400, "InvalidArgument", "Only AWS4-HMAC-SHA256 is supported by the local cloud.")
    credential = _require(fields, "x-amz-credential")
    signature = _require(fields, "x-amz-signature")
    _require(fields, "x-amz-date")
    parts = credential.split("/")
    if len(parts) != 5 or parts[3] != "s3" or parts[4] != "aws4_request":
        raise S3Error(400, "InvalidArgument", f"Invalid credential: {credential}")
    access_key, date, region = parts[0], parts[1], parts[2]
    secret = secrets.get(access_key)
    if secret is None:
        raise S3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
    expected = policy_signature(policy_b64, access_key, secret, date, region)
    if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
        raise S3Error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
        )
    return access_key


def _decode_policy(policy_b64: str) -> dict[str, Any]:
    try:
        policy = json.loads(base64.b64decode(policy_b64, validate=True))
    except (binascii.Error, ValueError):
        raise S3Error(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from None
    if not isinstance(policy, dict):
        raise S3Error(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
    return policy


def _check_expiration(policy: dict[str, Any], now: datetime) -> None:
    expiration = policy.get("expiration")
    if not isinstance(expiration, str):
        raise S3Error(400, "InvalidPolicyDocument", "Invalid Policy: Policy missing expiration.")
    try:
        expires = datetime.fromisoformat(expiration.replace("Z", "+00:00"))
    except ValueError:
        raise S3Error(400, "InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value.") from None
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    if now >= expires:
        raise S3Error(403, "AccessDenied", "Invalid according to Policy: Policy expired.")


def _check_conditions(conditions: list[Any], fields: dict[str, str], file_size: int) -> set[str]:
    """Apply every condition; the names of the fields they cover."""
    covered: set[str] = set()
    for condition in conditions:
        if isinstance(condition, dict):
            for name, expected in condition.items():
                covered.add(name.lower())
                if fields.get(name.lower()) != expected:
                    raise _policy_failed(["eq", f"${name}", expected])
        elif isinstance(condition, list) and len(condition) == 3:
            operator = str(condition[0]).lower()
            if operator == "content-length-range":
                _check_size(int(condition[1]), int(condition[2]), file_size)
                continue
            name = str(condition[1]).lower().removeprefix("$")
            covered.add(name)
            value = fields.get(name)
            if operator == "eq" and value != condition[2]:
                raise _policy_failed(condition)
            if operator == "starts-with" and (value is None or not _starts_with(name, value, str(condition[2]))):
                raise _policy_failed(condition)
            if operator not in ("eq", "starts-with"):
                raise S3Error(400, "InvalidPolicyDocument", f"Invalid Policy: Invalid Condition: {condition[0]}")
        else:
            raise S3Error(400, "InvalidPolicyDocument", "Invalid Policy: Invalid Simple-Condition.")
    return covered


def _starts_with(name: str, value: str, prefix: str) -> bool:
    # S3 checks each comma-separated Content-Type against the prefix.
    if name == "content-type":
        return all(part.strip().startswith(prefix) for part in value.split(","))
    return value.startswith(prefix)


def _check_size(minimum: int, maximum: int, size: int) -> None:
    if size > maximum:
        raise S3Error(
            400,
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size",
            {"ProposedSize": str(size), "MaxSizeAllowed": str(maximum)},
        )
    if size < minimum:
        raise S3Error(
            400,
            "EntityTooSmall",
            "Your proposed upload is smaller than the minimum allowed size",
            {"ProposedSize": str(size), "MinSizeAllowed": str(minimum)},
        )
