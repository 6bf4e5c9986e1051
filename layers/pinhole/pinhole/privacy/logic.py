"""Use cases of the privacy context: delete my account (deactivate now, purge after a grace period, undo by
logging in or POST /me/reactivate) and download my data (an export job, its status and link)."""

import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pinhole.auth.identity import CognitoIdentity
from pinhole.notifications.dal import NotificationRepository
from pinhole.notifications.models import NotificationRecord, NotificationType
from pinhole.privacy.dal import AccountRepository, ExportRepository, deletion_marker, presigned_get, s3_client
from pinhole.privacy.models import (
    DeletionScheduled,
    ExportJob,
    ExportRequest,
    ExportStarted,
    ExportStatus,
    ExportView,
    PurgeRequest,
    ScheduledDeletion,
    UserRef,
)
from pinhole.shared import aws_clients, rate_limits
from pinhole.shared.caller import Caller
from pinhole.shared.clock import to_iso, utc_now
from pinhole.shared.errors import InvalidCredentials, NotFound
from pinhole.shared.ids import new_id
from pinhole.shared.observability import logger
from pinhole.shared.settings import get_settings
from pinhole.users.dal import ProfileRepository
from pinhole.users.logic import to_me
from pinhole.users.models import Me

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamRecordModel

EXPORT_LINK_VALID = timedelta(days=7)  # S3's longest pre-signed URL lifetime with SigV4

_settings = get_settings()
_identity = CognitoIdentity()
_accounts = AccountRepository()
_exports = ExportRepository()
_profiles = ProfileRepository()


class Queue:
    """A job queue (purge or export): one JSON message per job. Its client is made on first use: the auth
    function imports this module (a log-in reactivates) and sends nothing."""

    def __init__(self, url: str, client: Any = None) -> None:
        self.url = url
        self._sqs = client

    def send(self, body: str) -> None:
        if self._sqs is None:
            self._sqs = aws_clients.client("sqs", region_name=get_settings().region)
        self._sqs.send_message(QueueUrl=self.url, MessageBody=body)


def grace_period() -> timedelta:
    return timedelta(days=get_settings().account_deletion_grace_days)


def delete_account(
    caller: Caller,
    password: str,
    now: datetime | None = None,
    identity: CognitoIdentity = _identity,
    accounts: AccountRepository = _accounts,
) -> DeletionScheduled:
    """DELETE /me: the password is checked (401 when wrong), the account deactivated at once — it reads as
    absent to everyone — and every refresh token revoked, its connections closed. The access tokens already
    issued live on until they expire (≤ 15 minutes), for this route and POST /me/reactivate: asked again with
    one, the same date comes back (the sign-out is the admin call, which a token Cognito refuses since the
    first one cannot stop)."""
    rate_limits.enforce(caller.user_id, "password_check")
    identity.check_password(caller.username, password)
    now = now or utc_now()
    user = UserRef(user_id=caller.user_id, username=caller.username)
    accounts.deactivate(user, now, now + grace_period())
    state = accounts.state(caller.user_id)
    if state is None or state[1] is None:
        raise NotFound("No such user.")
    identity.sign_out_user(caller.username)
    from pinhole.realtime.push import Pusher  # only this path talks to @connections

    Pusher().disconnect_all(caller.user_id)
    return DeletionScheduled(purge_after=to_iso(state[1]))


def reactivate(
    caller: Caller,
    now: datetime | None = None,
    accounts: AccountRepository = _accounts,
    profiles: ProfileRepository = _profiles,
) -> Me:
    """POST /me/reactivate: everything is back, as it was; 404 once the grace period is over."""
    state = accounts.state(caller.user_id)
    if state is None:
        raise NotFound("No such user.")
    _, purge_after, purging = state
    if (purge_after is not None or purging) and not accounts.reactivate(caller.user_id, now or utc_now()):
        raise NotFound("The grace period is over: the account is being deleted.")
    return to_me(profiles.get_consistent(caller.user_id))


def restore_on_login(username: str, now: datetime | None = None, accounts: AccountRepository = _accounts) -> None:
    """Logging in to a deactivated account within its grace period cancels the deletion (as Instagram);
    after it, the log-in is refused as if the account did not exist."""
    user = accounts.find(username.casefold())
    state = accounts.state(user.user_id) if user else None
    if user is None or state is None:
        return
    _, purge_after, purging = state
    if purge_after is None and not purging:
        return
    if not accounts.reactivate(user.user_id, now or utc_now()):
        raise InvalidCredentials("The username or password is wrong.")
    logger.info("Account reactivated by logging in", extra={"user_id": user.user_id})


def marker_removed(
    change: "DynamoDBStreamRecordModel",
    now: datetime | None = None,
    accounts: AccountRepository = _accounts,
    purge_queue: Queue | None = None,
) -> bool:
    """A deletion marker left the privacy table: the purge starts only if DynamoDB's TTL removed it — a
    reactivation deletes the marker too, and its record may arrive after the account was deleted again — and
    the account's own state says this deletion is due (`deletion_due`). Erasing an account cannot be undone:
    any doubt leaves it alone, the TTL of a current marker still comes."""
    # Imported here: the stream's models (Powertools' parser) are the consumer's; auth and the API function
    # import this module for a reactivation and a deletion, and their cold starts should not pay for them.
    from pinhole.streams.logic import removed_by_ttl

    deletion = deletion_marker(change.dynamodb.OldImage if isinstance(change.dynamodb.OldImage, dict) else {})
    if deletion is None:
        return False
    if not removed_by_ttl(change):
        logger.info("Deletion marker removed, not expired: no purge", extra={"user_id": deletion.user.user_id})
        return False
    return deletion_due(deletion, now, accounts, purge_queue)


def deletion_due(
    deletion: ScheduledDeletion,
    now: datetime | None = None,
    accounts: AccountRepository = _accounts,
    purge_queue: Queue | None = None,
) -> bool:
    """The deletion's marker expired: the purge starts if this deletion is still the account's and its grace
    period is over (an earlier deletion's expiry never purges a later one). Redelivered, it only re-sends the
    message."""
    if not accounts.start_purge(deletion, now or utc_now()):
        logger.warning(
            "Expired marker: no purge (not the account's due deletion, or its purge is over)",
            extra={"user_id": deletion.user.user_id},
        )
        return False
    message = PurgeRequest(user_id=deletion.user.user_id)
    (purge_queue or Queue(get_settings().purge_queue_url)).send(message.model_dump_json())
    return True


# Export


def request_export(
    caller: Caller,
    now: datetime | None = None,
    exports: ExportRepository = _exports,
    export_queue: Queue | None = None,
) -> ExportStarted:
    """POST /me/export: at most one a day (429 with Retry-After otherwise)."""
    rate_limits.enforce(caller.user_id, "export")
    requested_at = now or utc_now()
    exports.start(caller.user_id, requested_at)
    request = ExportRequest(user_id=caller.user_id, requested_at=requested_at)
    (export_queue or Queue(get_settings().export_queue_url)).send(request.model_dump_json())
    return ExportStarted(status=ExportStatus.PENDING)


def export_status(caller: Caller, exports: ExportRepository = _exports) -> ExportView:
    job = exports.get(caller.user_id)
    if job is None or job.requested_at is None:
        raise NotFound("No export was requested (or its link expired).")
    view = ExportView(status=job.status, requested_at=to_iso(job.requested_at))
    if job.status == ExportStatus.READY and job.object_key and job.finished_at:
        view.url = presigned_get(
            get_settings().uploads_bucket_name, job.object_key, int(EXPORT_LINK_VALID.total_seconds())
        )
        view.expires_at = to_iso(job.finished_at + EXPORT_LINK_VALID)
    return view


def run_export(
    request: ExportRequest,
    now: datetime | None = None,
    exports: ExportRepository = _exports,
    notifications: NotificationRepository | None = None,
    s3: Any = None,
) -> bool:
    """The export queue's work: the zip is built and uploaded, the job marked ready and the user notified.
    False when a newer request replaced this one (nothing is written for it) or the account is gone."""
    job = exports.get(request.user_id)
    if job is None or job.requested_at != request.requested_at:
        return False
    if job.status == ExportStatus.READY:
        # A redelivered message: the export is there, but its notification may have failed after it was marked
        # ready; telling again is a no-op if it did not (one notification per export: its source)
        _tell_ready(request, job.finished_at or now or utc_now(), notifications)
        return True
    # Imported here: the export's file models and the contexts it reads cost ~30 ms of a cold start that the
    # functions importing this module for an account's deletion (auth's log-in, DELETE /me) would pay for nothing.
    from pinhole.privacy.export import AccountData, export_key, upload_export

    key = export_key(request.user_id, request.requested_at)
    originals = upload_export(AccountData(request.user_id), s3 or s3_client(), get_settings().uploads_bucket_name, key)
    finished_at = now or utc_now()
    done = ExportJob(status=ExportStatus.READY, object_key=key, finished_at=finished_at)
    if not exports.finish(request.user_id, request.requested_at, done, finished_at + EXPORT_LINK_VALID):
        return False
    _tell_ready(request, finished_at, notifications)
    logger.info("Export ready", extra={"user_id": request.user_id, "originals": originals})
    return True


def _tell_ready(request: ExportRequest, finished_at: datetime, notifications: NotificationRepository | None) -> None:
    (notifications or NotificationRepository()).create(
        NotificationRecord(
            notification_id=new_id(),
            user_id=request.user_id,
            type=NotificationType.EXPORT_READY,
            actor_id=request.user_id,
            created_at=to_iso(finished_at),
        ),
        source=f"export#{to_iso(request.requested_at)}",
    )


def fail_export(request: ExportRequest, exports: ExportRepository = _exports) -> None:
    """The export gave up (its message goes to the dead-letter queue): the user sees `failed`, and may ask
    again tomorrow."""
    failed_at = utc_now()
    exports.finish(
        request.user_id,
        request.requested_at,
        ExportJob(status=ExportStatus.FAILED, finished_at=failed_at),
        failed_at + EXPORT_LINK_VALID,
    )


def deadline_in(seconds: float, clock: Any = time.monotonic) -> float:
    return float(clock()) + seconds


def continue_purge(user_id: str, purge_queue: Queue | None = None) -> None:
    """The purge ran out of time: its progress is saved, a new message carries on from there."""
    (purge_queue or Queue(get_settings().purge_queue_url)).send(PurgeRequest(user_id=user_id).model_dump_json())
