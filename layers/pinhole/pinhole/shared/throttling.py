"""Whether an error is AWS asking us to slow down, whichever service said it and however it reached us.

Any service Pinhole calls can throttle once the SDK's own retries are spent: DynamoDB
(`ProvisionedThroughputExceededException`, `ThrottlingException`), Cognito (`TooManyRequestsException`,
`LimitExceededException`), S3 (`SlowDown`), Secrets Manager and SSM (`ThrottlingException`), SQS
(`RequestThrottled`), the WebSocket management API (`LimitExceededException`)... The list is botocore's own:
its standard retry mode retries exactly these codes as throttling, so a code AWS adds reaches us with the SDK.
Added: two cancellation reasons of a DynamoDB transaction, which botocore cannot see inside
`TransactionCanceledException`, and SQS's `KmsThrottled`.

The error may arrive wrapped: PynamoDB wraps the ClientError, Powertools' idempotency utility
raises its own error from it. The whole chain of causes is read."""

from collections.abc import Iterator

from botocore.exceptions import ClientError
from botocore.retries.standard import RetryContext, ThrottledRetryableChecker
from pynamodb.exceptions import PynamoDBException

RETRY_AFTER_S = 1
"""What a throttled client is told to wait: the SDK already backed off, a second is enough to try again."""

THROTTLES_BOTOCORE_DOES_NOT_LIST = frozenset(
    {
        "ThrottlingError",  # a cancellation reason of TransactWriteItems
        "TransactionConflict",  # still colliding after pinhole.shared.transactions.commit's retries
        "TransactionConflictException",  # a single-item write on an item a transaction holds at that moment
        "KmsThrottled",  # SQS: KMS throttled the queue's encryption
    }
)
_botocore_throttle_check = ThrottledRetryableChecker()


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _is_throttle_code(code: str | None) -> bool:
    if not code:
        return False
    if code in THROTTLES_BOTOCORE_DOES_NOT_LIST:
        return True
    return bool(_botocore_throttle_check.is_retryable(RetryContext(1, parsed_response={"Error": {"Code": code}})))


def aws_error_codes(error: BaseException) -> set[str]:
    """The AWS error codes the error carries (a transaction's cancellation reasons included)."""
    if isinstance(error, ClientError):
        reasons = error.response.get("CancellationReasons") or []
        return {error.response.get("Error", {}).get("Code", "")} | {reason.get("Code", "") for reason in reasons}
    if isinstance(error, PynamoDBException):
        reasons = getattr(error, "cancellation_reasons", None) or []
        return {error.cause_response_code or ""} | {reason.code for reason in reasons if reason}
    return set()


def throttled_by_aws(error: BaseException) -> bool:
    """True if the error, or anything it was raised from, is an AWS service throttling us."""
    return any(_is_throttle_code(code) for cause in _causes(error) for code in aws_error_codes(cause))
