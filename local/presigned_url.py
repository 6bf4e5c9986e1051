"""S3's checks of a pre-signed URL (query-string authentication), which moto skips entirely.

The signature is recomputed by the botocore signer that made it (`S3SigV4QueryAuth`, or `HmacV1QueryAuth` for the
SigV2 URLs boto3 still makes by default in us-east-1), over the request as received: its method, its path as sent,
its query less the signature, the headers it says it signed, at the time it says it was signed. So a URL whose
signature, date, expiry, path or query was changed is refused as S3 refuses it, and so is one used too late.
Mirrors https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote, urlsplit

from botocore.auth import HmacV1QueryAuth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import ReadOnlyCredentials

from local.upload_policy import SIGV4_ALGORITHM, S3Error

SIGV4_PARAMETERS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)
SIGV2_PARAMETERS = ("AWSAccessKeyId", "Signature", "Expires")
MAX_EXPIRES_S = 7 * 24 * 3600  # a SigV4 signing key is valid for a week
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
# Sent by some SDKs beside a pre-signed URL without signing it; S3 does not ask for it to be signed.
_UNSIGNED_AMZ_HEADERS = {"x-amz-content-sha256"}


@dataclass(frozen=True)
class ReceivedRequest:
    """A request as it reached the S3 front, in the form its signature was computed over."""

    method: str
    raw_path: str  # percent-encoded, as sent
    query: list[tuple[str, str]]  # decoded, in the order sent
    headers: Mapping[str, str]  # looked up by lower-case name
    # Where the S3 endpoint is mounted (`/_aws/s3`): SigV4 signs the whole path, SigV2 only what names the object.
    mount: str = ""

    @classmethod
    def of(
        cls, method: str, raw_path: str, raw_query: str, headers: Mapping[str, str], mount: str = ""
    ) -> ReceivedRequest:
        pairs = [pair.partition("=") for pair in raw_query.split("&") if pair]
        return cls(method, raw_path, [(unquote(name), unquote(value)) for name, _, value in pairs], headers, mount)

    def get(self, name: str) -> str | None:
        return next((value for key, value in self.query if key == name), None)


def is_presigned(query_names: set[str]) -> bool:
    """A request carrying any parameter of query-string authentication: S3 checks it as one."""
    return not query_names.isdisjoint(SIGV4_PARAMETERS) or not query_names.isdisjoint(SIGV2_PARAMETERS)


def check_presigned(
    request: ReceivedRequest, secrets: Mapping[str, str], region: str, now: datetime | None = None
) -> str:
    """The access key id whose signature S3 would accept on this request, or the S3Error it would answer."""
    now = now or datetime.now(UTC)
    names = {name for name, _ in request.query}
    if not names.isdisjoint(SIGV4_PARAMETERS):
        return _check_sigv4(request, secrets, region, now)
    return _check_sigv2(request, secrets, now)


def _check_sigv4(request: ReceivedRequest, secrets: Mapping[str, str], region: str, now: datetime) -> str:
    parameters = {name: request.get(name) for name in SIGV4_PARAMETERS}
    if any(value is None for value in parameters.values()):
        raise _query_parameters_error(
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, "
            "X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
        )
    algorithm, credential, signature, amz_date, signed_headers, expires_text = (
        str(parameters[name]) for name in SIGV4_PARAMETERS
    )
    if algorithm != SIGV4_ALGORITHM:
        raise _query_parameters_error(f'X-Amz-Algorithm only supports "{SIGV4_ALGORITHM}"')
    access_key, scope_date, scope_region = _credential_scope(credential, region)
    signed_at = _signed_at(amz_date)
    expires_s = _expires_s(expires_text)
    if scope_date != amz_date[:8]:
        raise _query_parameters_error(
            f'Invalid credential date "{scope_date}". This date is not the same as X-Amz-Date: "{amz_date[:8]}".'
        )
    secret = _secret_of(access_key, secrets)
    signed = {name for name in signed_headers.split(";") if name}
    unsigned = sorted(
        name for name in request.headers if name.startswith("x-amz-") and name not in signed | _UNSIGNED_AMZ_HEADERS
    )
    if unsigned:
        raise S3Error(
            403,
            "AccessDenied",
            "There were headers present in the request which were not signed",
            {"HeadersNotSigned": ", ".join(unsigned)},
        )
    signer = S3SigV4QueryAuth(ReadOnlyCredentials(access_key, secret, None), "s3", scope_region, expires=expires_s)
    as_signed = AWSRequest(
        method=request.method,
        url=f"http://{request.headers.get('host', '')}{request.raw_path}",
        headers={name: value for name in signed if (value := request.headers.get(name)) is not None},
        params=[(name, value) for name, value in request.query if name != "X-Amz-Signature"],
    )
    as_signed.context["timestamp"] = amz_date
    canonical_request = signer.canonical_request(as_signed)
    string_to_sign = signer.string_to_sign(as_signed, canonical_request)
    if not _same(signer.signature(string_to_sign, as_signed), signature):
        raise _signature_does_not_match(access_key, string_to_sign, signature, {"CanonicalRequest": canonical_request})
    expires = signed_at + timedelta(seconds=expires_s)
    if now > expires:
        raise _expired({"X-Amz-Expires": expires_text, "Expires": _iso(expires), "ServerTime": _iso(now)})
    return access_key


def _credential_scope(credential: str, region: str) -> tuple[str, str, str]:
    """(access key id, date, region) of `<key>/<yyyymmdd>/<region>/s3/aws4_request`."""
    parts = credential.split("/")
    if len(parts) != 5 or not parts[0]:
        raise _query_parameters_error(
            "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
            'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
        )
    access_key, date, scope_region, service, terminal = parts
    if scope_region != region:
        raise _query_parameters_error(
            f"Error parsing the X-Amz-Credential parameter; the region '{scope_region}' is wrong; expecting '{region}'",
            {"Region": region},
        )
    if service != "s3":
        raise _query_parameters_error(
            f'Error parsing the X-Amz-Credential parameter; incorrect service "{service}". '
            'This endpoint belongs to "s3".'
        )
    if terminal != "aws4_request":
        raise _query_parameters_error(
            f'Error parsing the X-Amz-Credential parameter; incorrect terminal "{terminal}". '
            'This endpoint uses "aws4_request".'
        )
    return access_key, date, scope_region


def _signed_at(amz_date: str) -> datetime:
    try:
        return datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=UTC)
    except ValueError:
        raise _query_parameters_error(
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
        ) from None


def _expires_s(text: str) -> int:
    if not _is_integer(text.removeprefix("-")):
        raise _query_parameters_error("X-Amz-Expires should be a number")
    seconds = int(text)
    if seconds < 0:
        raise _query_parameters_error("X-Amz-Expires must be non-negative")
    if seconds > MAX_EXPIRES_S:
        raise _query_parameters_error(
            "X-Amz-Expires must be less than a week (in seconds); that is, "
            f"the given X-Amz-Expires must be less than {MAX_EXPIRES_S} seconds"
        )
    return seconds


class _SignedUntil(HmacV1QueryAuth):
    """botocore's SigV2 query signer, signing the expiry the URL names (botocore's own signs now + expires)."""

    def _get_date(self) -> str:
        return str(self._expires)


def _check_sigv2(request: ReceivedRequest, secrets: Mapping[str, str], now: datetime) -> str:
    access_key, signature, expires_text = (request.get(name) for name in SIGV2_PARAMETERS)
    if access_key is None or signature is None or expires_text is None:
        raise S3Error(
            403,
            "AccessDenied",
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
        )
    if not _is_integer(expires_text):
        raise S3Error(403, "AccessDenied", f"Invalid date (should be seconds since epoch): {expires_text}")
    try:
        expires = datetime.fromtimestamp(int(expires_text), UTC)
    except (OverflowError, OSError, ValueError):  # past year 9999: SigV2 sets no limit
        expires = datetime.max.replace(tzinfo=UTC)
    if now > expires:
        raise _expired({"Expires": _iso(expires), "ServerTime": _iso(now)})
    secret = _secret_of(access_key, secrets)
    headers = HTTPHeaders()
    for name, value in request.headers.items():
        if name.startswith("x-amz-") or name in ("content-md5", "content-type"):
            headers[name] = value
    signer = _SignedUntil(ReadOnlyCredentials(access_key, secret, None), expires=int(expires_text))
    raw_query = "&".join(f"{name}={quote(value, safe='')}" for name, value in request.query)
    resource = urlsplit(f"{request.raw_path.removeprefix(request.mount)}?{raw_query}")
    string_to_sign = signer.canonical_string(request.method, resource, headers)
    if not _same(signer.sign_string(string_to_sign), signature):
        raise _signature_does_not_match(access_key, string_to_sign, signature)
    return access_key


def _is_integer(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _secret_of(access_key: str, secrets: Mapping[str, str]) -> str:
    secret = secrets.get(access_key)
    if secret is None:
        raise S3Error(
            403,
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            {"AWSAccessKeyId": access_key},
        )
    return secret


def _same(expected: str, provided: str) -> bool:
    return hmac.compare_digest(expected.encode(), provided.encode())


def _query_parameters_error(message: str, extra: dict[str, str] | None = None) -> S3Error:
    return S3Error(400, "AuthorizationQueryParametersError", message, extra)


def _signature_does_not_match(
    access_key: str, string_to_sign: str, provided: str, extra: dict[str, str] | None = None
) -> S3Error:
    return S3Error(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        {"AWSAccessKeyId": access_key, "StringToSign": string_to_sign, "SignatureProvided": provided, **(extra or {})},
    )


def _expired(extra: dict[str, str]) -> S3Error:
    return S3Error(403, "AccessDenied", "Request has expired", extra)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
