"""Domain errors. Logic raises them; `pinhole.shared.api` turns each into the API error envelope."""

from collections.abc import Iterable
from http import HTTPStatus
from typing import Any, ClassVar


class DomainError(Exception):
    status: ClassVar[HTTPStatus] = HTTPStatus.BAD_REQUEST
    code: ClassVar[str] = "bad_request"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    @property
    def headers(self) -> dict[str, str]:
        """Response headers the error's status requires (`Retry-After` with 429, `Allow` with 405)."""
        return {}


class ValidationFailed(DomainError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "validation_error"


class CannotFollowSelf(ValidationFailed):
    code = "cannot_follow_self"


class CannotBlockSelf(ValidationFailed):
    code = "cannot_block_self"


class CannotReportSelf(ValidationFailed):
    code = "cannot_report_self"


class CannotMuteSelf(ValidationFailed):
    code = "cannot_mute_self"


class CannotMessageSelf(ValidationFailed):
    code = "cannot_message_self"


class NotAGroup(ValidationFailed):
    """A change of title or members asked of a direct conversation."""

    code = "not_a_group"


class IdempotencyKeyReused(ValidationFailed):
    """An Idempotency-Key (or a frame's client_id) already used by this caller for a different request."""

    code = "idempotency_key_reused"

    def __init__(self, key: str = "Idempotency-Key", field: str = "idempotency-key") -> None:
        super().__init__(
            f"This {key} was used for a different request: use a new one for a new request.", [{"field": field}]
        )


class Unauthorized(DomainError):
    status = HTTPStatus.UNAUTHORIZED
    code = "unauthorized"


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


class InvalidCode(Unauthorized):
    """A verification, reset or TOTP code that is wrong, expired or already used (one answer for all three)."""

    code = "invalid_code"


class Forbidden(DomainError):
    status = HTTPStatus.FORBIDDEN
    code = "forbidden"


class AccountSuspended(Forbidden):
    """A moderator suspended the account: it cannot log in, post, comment or message until unsuspended."""

    code = "account_suspended"


class NotFound(DomainError):
    status = HTTPStatus.NOT_FOUND
    code = "not_found"


class Conflict(DomainError):
    status = HTTPStatus.CONFLICT
    code = "conflict"


class NotApplicable(Conflict):
    """A moderation action that does not apply to its case's target as it is now (restore what is published)."""

    code = "not_applicable"


class UsernameTaken(Conflict):
    code = "username_taken"


class RequestInProgress(Conflict):
    """The same Idempotency-Key's first request is still being handled: its answer is not known yet."""

    def __init__(self) -> None:
        super().__init__(
            "A request with this Idempotency-Key is still being handled: retry in a moment for its answer.",
            [{"field": "idempotency-key"}],
        )

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


class FirstResultGone(Conflict):
    """A retry whose first request's result is gone since (a message its sender unsent, a comment or a post deleted):
    it cannot be answered again, and doing the request again would not be a retry. `made` names what the key made
    and `again` what a new key would do ("comment", "comment again"); without them, a message's words."""

    def __init__(
        self, key: str = "Idempotency-Key", field: str = "idempotency-key", made: str = "", again: str = ""
    ) -> None:
        message = (
            f"The {made} this {key} first made has been deleted since: use a new key to {again}."
            if made
            else f"What this {key} first sent has been deleted since: use a new one to send it again."
        )
        super().__init__(message, [{"field": field}])


class Busy(DomainError):
    """Writers kept colliding on one item past every retry: nothing was wrong with the request."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "unavailable"

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


class MethodNotAllowed(DomainError):
    status = HTTPStatus.METHOD_NOT_ALLOWED
    code = "method_not_allowed"

    def __init__(self, method: str, allowed: Iterable[str]) -> None:
        self.allowed = sorted(allowed)
        super().__init__(f"{method} is not a method of this path: it answers {', '.join(self.allowed)}.")

    @property
    def headers(self) -> dict[str, str]:
        return {"Allow": ", ".join(self.allowed)}


class UnsupportedMediaType(DomainError):
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    code = "unsupported_media_type"


class PayloadTooLarge(DomainError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "payload_too_large"


class RateLimited(DomainError):
    status = HTTPStatus.TOO_MANY_REQUESTS
    code = "rate_limited"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class CursorExpired(DomainError):
    """A cursor whose listing is gone (a ranked feed's snapshot outlived its hour): start again without one."""

    status = HTTPStatus.GONE
    code = "cursor_expired"
