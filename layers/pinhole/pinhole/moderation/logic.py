"""Use cases of moderation: reporting what one can see, the moderators' queue and cases, their actions — which
take effect everywhere through the paths deletes and deleted users already take (pinhole.posts' status machine,
pinhole.users.dal's suspended profiles) — and the append-only audit log of every action.

Only members of the Cognito group `moderators` (the access token's `cognito:groups`, checked here, server-side)
may use the moderation routes; everyone else gets 403 on each."""

import random
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pinhole.auth.identity import CognitoIdentity
from pinhole.graph.dal import GraphRepository
from pinhole.messaging import moderation as messaging_moderation
from pinhole.messaging.dal import MessageRepository
from pinhole.messaging.logic import _to_message, reportable_message
from pinhole.messaging.models import MessageRecord
from pinhole.moderation.dal import ModerationRepository
from pinhole.moderation.models import (
    SEVERITY,
    Action,
    ActionRequest,
    Case,
    CaseDetail,
    CaseRecord,
    CaseReport,
    CaseStatus,
    Label,
    LogEntry,
    LogRecord,
    LogTarget,
    MyReport,
    Reason,
    ReportReceipt,
    ReportRecord,
    ReportRequest,
    ReportStatus,
    TargetType,
    case_id_of,
)
from pinhole.notifications.delivery import notify_moderation
from pinhole.notifications.models import NotificationType
from pinhole.posts import logic as posts_logic
from pinhole.posts.dal import PostRepository
from pinhole.posts.models import PostKind, PostRecord, PostStatus
from pinhole.realtime.push import Pusher
from pinhole.shared import rate_limits
from pinhole.shared.caller import Caller
from pinhole.shared.clock import to_iso, utc_now
from pinhole.shared.errors import CannotReportSelf, Conflict, DomainError, Forbidden, NotApplicable, NotFound
from pinhole.shared.ids import first_id_at, new_id
from pinhole.shared.pages import next_cursor, start_after
from pinhole.social.dal import InteractionRepository
from pinhole.social.logic import _to_comment
from pinhole.stories import logic as stories_logic
from pinhole.stories.feed import to_story
from pinhole.users.dal import ProfileRepository
from pinhole.users.logic import summary_of, to_user
from pinhole.users.models import Profile

FILE_ATTEMPTS = 10
"""Reports of one target racing each other: each attempt that loses re-reads the case and counts again, after a
jittered pause that grows (every round has a winner, so ten rounds settle ten reporters at the same instant)."""
_jitter = random.SystemRandom()


def _pause(attempt: int) -> None:
    time.sleep(_jitter.uniform(0, 0.01 * 2 ** min(attempt, 5)))


_store = ModerationRepository()
_posts = PostRepository()
_profiles = ProfileRepository()
_graph = GraphRepository()
_interactions = InteractionRepository()
_messages = MessageRepository()
_identity = CognitoIdentity()
_pusher = Pusher()

_POST_KINDS = {TargetType.POST: PostKind.POST, TargetType.STORY: PostKind.STORY}


def _now() -> str:
    return to_iso(utc_now())


def _split(target_id: str, what: str) -> tuple[str, str]:
    container, _, item = target_id.partition("/")
    if not container or not item or "/" in item:
        raise NotFound(f"No such {what}.")
    return container, item


def _post_target(caller: Caller, target_type: TargetType, target_id: str, posts: PostRepository) -> str:
    if target_type == TargetType.POST:
        record, _ = posts_logic.readable_post(caller, target_id, posts, _profiles)
        return record.author_id
    record, _ = stories_logic.readable_story(caller, target_id, posts, _profiles, _graph)
    return record.author_id


def visible_target_author(
    caller: Caller,
    target_type: TargetType,
    target_id: str,
    posts: PostRepository = _posts,
    profiles: ProfileRepository = _profiles,
    graph: GraphRepository = _graph,
    interactions: InteractionRepository = _interactions,
    messages: MessageRepository = _messages,
) -> str:
    """Whose the target is, if the caller can see it (a message: only its conversation's participants);
    NotFound otherwise, whichever the reason, as the target's own route answers."""
    if target_type in _POST_KINDS:
        return _post_target(caller, target_type, target_id, posts)
    if target_type == TargetType.COMMENT:
        post_id, comment_id = _split(target_id, "comment")
        posts_logic.readable_post(caller, post_id, posts, profiles)
        comment = interactions.get_comment(post_id, comment_id)
        if (
            comment.removed
            or comment.author_id not in profiles.get_many([comment.author_id])
            or (comment.author_id != caller.user_id and graph.blocked_between(caller.user_id, comment.author_id))
        ):
            raise NotFound("No such comment.")
        return comment.author_id
    if target_type == TargetType.USER:
        user = profiles.get(target_id)
        if user.suspended or (user.user_id != caller.user_id and graph.blocked_between(caller.user_id, user.user_id)):
            raise NotFound("No such user.")
        return user.user_id
    conversation_id, message_id = _split(target_id, "message")
    return reportable_message(caller, conversation_id, message_id, messages, profiles, graph).sender_id


def _counted(before: CaseRecord | None, report: ReportRecord, author_id: str) -> CaseRecord:
    """The case with one more open report: a new case, a closed one opened again, or one more on the pile."""
    reasons = dict(before.reasons) if before and before.status == CaseStatus.OPEN else {}
    reasons[report.reason.value] = reasons.get(report.reason.value, 0) + 1
    severity = max(SEVERITY[Reason(reason)] for reason in reasons)
    if before is not None and before.status == CaseStatus.OPEN:
        severity = max(severity, before.severity)
    opened_at = before.opened_at if before and before.status == CaseStatus.OPEN else report.created_at
    return CaseRecord(
        case_id=report.case_id,
        target_type=report.target_type,
        target_id=report.target_id,
        author_id=author_id,
        status=CaseStatus.OPEN,
        severity=severity,
        report_count=sum(reasons.values()),
        reasons=reasons,
        labels=before.labels if before else [],
        opened_at=opened_at,
        updated_at=report.created_at,
        version=(before.version + 1) if before else 0,
        last_action=before.last_action if before else None,
    )


def file_report(
    caller: Caller,
    request: ReportRequest,
    store: ModerationRepository = _store,
    find_author: Callable[[Caller, TargetType, str], str] = visible_target_author,
) -> tuple[ReportReceipt, bool]:
    """Files the caller's report, or finds their open report of the same target; whether it is new."""
    author_id = find_author(caller, request.target_type, request.target_id)
    if author_id == caller.user_id:
        raise CannotReportSelf("You cannot report yourself or your own content.", [{"field": "target_id"}])
    case_id = case_id_of(request.target_type, request.target_id)
    counted = False
    for attempt in range(FILE_ATTEMPTS):
        last = store.last_report_of(case_id, caller.user_id)
        if last is not None and last.status == ReportStatus.OPEN:
            return ReportReceipt(report_id=last.report_id), False
        if not counted:
            rate_limits.enforce(caller.user_id, "report")  # repeats are free; new reports are counted
            counted = True
        report = ReportRecord(
            report_id=new_id(),
            case_id=case_id,
            reporter_id=caller.user_id,
            target_type=request.target_type,
            target_id=request.target_id,
            reason=request.reason,
            note=request.note or None,
            created_at=_now(),
        )
        before = store.case(case_id)
        if store.file(report, last, before, _counted(before, report, author_id)):
            return ReportReceipt(report_id=report.report_id), True
        _pause(attempt)
    raise Conflict("This target is being reported by many at once: try again.")


def my_reports(
    caller: Caller, limit: int, cursor: str | None, store: ModerationRepository = _store
) -> tuple[list[MyReport], str | None]:
    scope = f"reports:{caller.user_id}"
    records, last_key = store.reports_by(caller.user_id, limit, start_after(cursor, scope))
    return [MyReport.model_validate(record.model_dump()) for record in records], next_cursor(last_key, scope)


def require_moderator(caller: Caller) -> None:
    if not caller.is_moderator:
        raise Forbidden("Only moderators can do this.")


def _views(cases: list[CaseRecord], profiles: ProfileRepository) -> list[Case]:
    authors = profiles.get_many([case.author_id for case in cases], include_suspended=True)
    return [_view(case, authors.get(case.author_id)) for case in cases]


def _view(case: CaseRecord, author: Profile | None) -> Case:
    return Case(
        **case.model_dump(exclude={"author_id", "version"}),
        author=summary_of(author) if author else None,
        author_suspended=bool(author and author.suspended),
    )


def queue(
    caller: Caller,
    limit: int,
    cursor: str | None,
    status: CaseStatus = CaseStatus.OPEN,
    store: ModerationRepository = _store,
    profiles: ProfileRepository = _profiles,
) -> tuple[list[Case], str | None]:
    """Cases of one status (open by default), most severe first, then most reported, then oldest."""
    require_moderator(caller)
    scope = f"moderation-queue:{status.value}"
    records, last_key = store.queue(status, limit, start_after(cursor, scope))
    return _views(records, profiles), next_cursor(last_key, scope)


def _existing_case(case_id: str, store: ModerationRepository) -> CaseRecord:
    case = store.case(case_id)
    if case is None:
        raise NotFound(f"No moderation case {case_id}.")
    return case


def _target_as_it_is(case: CaseRecord, viewer_id: str, profiles: ProfileRepository) -> dict[str, Any] | None:
    """The target as its own routes show it to the moderator `viewer_id` (a story as a Story, not as the post
    record it is stored as; a post with their own like and save flags, as every Post carries), even removed, held
    or by a suspended author, with what says so; None once deleted."""
    try:
        if case.target_type == TargetType.POST:
            record = _posts.get(case.target_id)
            author = profiles.get(record.author_id)
            return posts_logic.posts_seen_by(viewer_id, [(record, author)])[0].model_dump(mode="json")
        if case.target_type == TargetType.STORY:
            record = _posts.get(case.target_id)
            story = to_story(record, profiles.get(record.author_id)).model_dump(mode="json")
            return {**story, "status": record.status.value}  # removed, held: what a Story alone cannot say
        if case.target_type == TargetType.COMMENT:
            post_id, comment_id = _split(case.target_id, "comment")
            comment = _interactions.get_comment(post_id, comment_id)
            shown = _to_comment(comment, profiles.get(comment.author_id)).model_dump(mode="json")
            return {**shown, "removed": comment.removed}
        if case.target_type == TargetType.USER:
            user = profiles.get(case.target_id)
            return {**to_user(user).model_dump(mode="json"), "suspended": user.suspended}
        conversation_id, message_id = _split(case.target_id, "message")
        message = _messages.get_message(conversation_id, message_id)
        if message is None:
            return None
        shown_message = _to_message(message, profiles.get(message.sender_id)).model_dump(mode="json", by_alias=True)
        return {**shown_message, "removed": message.removed}
    except NotFound:
        return None


def case_detail(
    caller: Caller, case_id: str, store: ModerationRepository = _store, profiles: ProfileRepository = _profiles
) -> CaseDetail:
    require_moderator(caller)
    case = _existing_case(case_id, store)
    reports = store.reports(case_id)
    people = profiles.get_many([case.author_id, *(r.reporter_id for r in reports)], include_suspended=True)
    return CaseDetail(
        **_view(case, people.get(case.author_id)).model_dump(),
        target=_target_as_it_is(case, caller.user_id, profiles),
        reports=[
            CaseReport(
                report_id=report.report_id,
                reporter=summary_of(people[report.reporter_id]) if report.reporter_id in people else None,
                reason=report.reason,
                note=report.note,
                status=report.status,
                created_at=report.created_at,
            )
            for report in reports
        ],
    )


class Moderator:
    """The actions, with their collaborators as parameters (tests pass their own)."""

    def __init__(
        self,
        store: ModerationRepository = _store,
        posts: PostRepository = _posts,
        profiles: ProfileRepository = _profiles,
        identity: CognitoIdentity = _identity,
        notify: Callable[..., bool] = notify_moderation,
        interactions: InteractionRepository = _interactions,
        set_message_removed: Callable[[str, str, bool], MessageRecord] = messaging_moderation.set_message_removed,
        connections: Pusher = _pusher,
    ) -> None:
        self.store, self.posts, self.profiles, self.identity, self.notify = store, posts, profiles, identity, notify
        self.interactions = interactions
        self.set_message_removed = set_message_removed
        self.connections = connections

    def act(self, caller: Caller, case_id: str, request: ActionRequest) -> CaseDetail:
        """Acts on the case's target and logs it: the entry is written (as an intent) before anything else, so an
        action is never left unlogged, whatever fails after (pinhole.moderation.dal says how)."""
        require_moderator(caller)
        reconcile_log(self.store)
        case = _existing_case(case_id, self.store)
        entry = LogRecord(
            entry_id=new_id(),
            action=request.action,
            moderator_id=caller.user_id,
            moderator_username=caller.username,
            case_id=case.case_id,
            target_type=case.target_type,
            target_id=case.target_id,
            note=request.note,
            at=_now(),
        )
        effects: dict[Action, Callable[[CaseRecord, str, str], tuple[CaseStatus, ReportStatus | None]]] = {
            Action.REMOVE: self._remove,
            Action.RESTORE: self._restore,
            Action.DISMISS: self._dismiss,
            Action.SUSPEND_USER: self._suspend,
            Action.UNSUSPEND_USER: self._unsuspend,
        }
        self.store.begin(entry)
        try:
            status, report_status = effects[request.action](case, request.note, entry.entry_id)
        except DomainError:
            self.store.withdraw(entry)  # refused before it took effect (each effect checks, then acts)
            raise
        after = case.model_copy(
            update={
                "status": status,
                "updated_at": entry.at,
                "version": case.version + 1,
                "last_action": request.action,
                "reasons": {} if status != CaseStatus.OPEN else case.reasons,
                "report_count": 0 if status != CaseStatus.OPEN else case.report_count,
            }
        )
        # A report filed meanwhile changed the case: it stays open for that report, the action stands (logged).
        self.store.settle(case, after, report_status)
        self.store.complete(entry)
        return case_detail(caller, case_id, self.store, self.profiles)

    def _post(self, case: CaseRecord) -> PostRecord:
        if case.target_type not in _POST_KINDS:
            raise NotApplicable(
                f"A {case.target_type.value} cannot be removed or restored: dismiss the case or suspend them."
            )
        try:
            return self.posts.get(case.target_id)
        except NotFound as gone:
            raise NotApplicable("The author deleted it.") from gone

    def _comment(self, case: CaseRecord, note: str, entry_id: str, removed: bool) -> None:
        post_id, comment_id = _split(case.target_id, "comment")
        try:
            comment = self.interactions.get_comment(post_id, comment_id)
        except NotFound as gone:
            raise NotApplicable("The comment was deleted.") from gone
        if not self.interactions.set_comment_removed(post_id, comment_id, removed):
            raise NotApplicable(f"The comment is {'removed' if removed else 'shown'} already.")
        kind = NotificationType.CONTENT_REMOVED if removed else NotificationType.CONTENT_RESTORED
        self.notify(comment.author_id, kind, post_id, note, f"moderation#{entry_id}", comment_id=comment_id)

    def _message(self, case: CaseRecord, removed: bool) -> None:
        """Gone for every participant (restorable), or back; the sender is not notified (a notice about a message
        would point at nothing they can open)."""
        conversation_id, message_id = _split(case.target_id, "message")
        self.set_message_removed(conversation_id, message_id, removed)

    def _remove(self, case: CaseRecord, note: str, entry_id: str) -> tuple[CaseStatus, ReportStatus | None]:
        if case.target_type == TargetType.COMMENT:
            self._comment(case, note, entry_id, removed=True)
            return CaseStatus.ACTIONED, ReportStatus.ACTIONED
        if case.target_type == TargetType.MESSAGE:
            self._message(case, removed=True)
            return CaseStatus.ACTIONED, ReportStatus.ACTIONED
        record = self._post(case)
        if record.status not in (PostStatus.PUBLISHED, PostStatus.IN_REVIEW) or not posts_logic.take_down(
            record, self.posts
        ):
            raise NotApplicable(f"It is {record.status.value}: only published or held content can be removed.")
        self.notify(record.author_id, NotificationType.CONTENT_REMOVED, record.post_id, note, f"moderation#{entry_id}")
        return CaseStatus.ACTIONED, ReportStatus.ACTIONED

    def _restore(self, case: CaseRecord, note: str, entry_id: str) -> tuple[CaseStatus, ReportStatus | None]:
        if case.target_type == TargetType.COMMENT:
            self._comment(case, note, entry_id, removed=False)
            return CaseStatus.DISMISSED, ReportStatus.DISMISSED
        if case.target_type == TargetType.MESSAGE:
            self._message(case, removed=False)
            return CaseStatus.DISMISSED, ReportStatus.DISMISSED
        record = self._post(case)
        if record.status not in (PostStatus.REMOVED, PostStatus.IN_REVIEW) or not posts_logic.reinstate(
            record, self.posts
        ):
            raise NotApplicable(f"It is {record.status.value}: only removed or held content can be restored.")
        self.notify(record.author_id, NotificationType.CONTENT_RESTORED, record.post_id, note, f"moderation#{entry_id}")
        return CaseStatus.DISMISSED, ReportStatus.DISMISSED

    def _dismiss(self, case: CaseRecord, note: str, entry_id: str) -> tuple[CaseStatus, ReportStatus | None]:
        if case.status != CaseStatus.OPEN:
            raise NotApplicable("The case is not open.")
        if case.target_type in _POST_KINDS and self._post_status(case) == PostStatus.IN_REVIEW:
            raise NotApplicable("The post is held for review: restore it (publish) or remove it.")
        return CaseStatus.DISMISSED, ReportStatus.DISMISSED

    def _post_status(self, case: CaseRecord) -> PostStatus | None:
        try:
            return self.posts.get(case.target_id).status
        except NotFound:
            return None

    def _author(self, case: CaseRecord) -> Profile:
        try:
            return self.profiles.get(case.author_id)
        except NotFound as gone:
            raise NotApplicable("The account is gone.") from gone

    def _suspend(self, case: CaseRecord, note: str, entry_id: str) -> tuple[CaseStatus, ReportStatus | None]:
        """The account is refused from now on: log-in and refresh (Cognito), every route and handshake (the flag),
        and its open WebSockets are closed, as a sign-out everywhere closes them. Closed after the flag is set: a
        handshake that passed the authorizer just before may still open one, whose frames are answered
        `account_suspended`."""
        author = self._author(case)
        if not self.profiles.set_suspended(author.user_id, True):
            raise NotApplicable(f"{author.username} is suspended already.")
        self.identity.suspend(author.username)
        self.connections.disconnect_all(author.user_id)
        return CaseStatus.ACTIONED, ReportStatus.ACTIONED

    def _unsuspend(self, case: CaseRecord, note: str, entry_id: str) -> tuple[CaseStatus, ReportStatus | None]:
        author = self._author(case)
        if not self.profiles.set_suspended(author.user_id, False):
            raise NotApplicable(f"{author.username} is not suspended.")
        self.identity.reinstate(author.username)
        return case.status, None


STALE_INTENT_AFTER = timedelta(minutes=2)
"""An intent this old was left by an invocation that has ended (the function's timeout is 10 s)."""


def reconcile_log(store: ModerationRepository = _store, stale_after: timedelta = STALE_INTENT_AFTER) -> int:
    """Moves every action begun and never completed into the log, unconfirmed; how many."""
    stale = store.intents_begun_before(first_id_at(utc_now() - stale_after))
    for entry in stale:
        store.complete(entry.model_copy(update={"unconfirmed": True}))
    return len(stale)


def moderation_log(
    caller: Caller,
    limit: int,
    cursor: str | None,
    store: ModerationRepository = _store,
    profiles: ProfileRepository = _profiles,
    stale_after: timedelta = STALE_INTENT_AFTER,
) -> tuple[list[LogEntry], str | None]:
    """The audit log, newest first: who did what to which case, when, and why — actions whose end was never
    recorded included, unconfirmed."""
    require_moderator(caller)
    reconcile_log(store, stale_after)
    scope = "moderation-log"
    records, last_key = store.log(limit, start_after(cursor, scope))
    moderators = profiles.get_many([record.moderator_id for record in records], include_suspended=True)
    return [_log_entry(record, moderators.get(record.moderator_id)) for record in records], next_cursor(last_key, scope)


def _log_entry(record: LogRecord, moderator: Profile | None) -> LogEntry:
    summary = (
        summary_of(moderator)
        if moderator
        else {
            "user_id": record.moderator_id,
            "username": record.moderator_username,
            "display_name": "",
            "avatar_url": None,
            "avatar": None,  # a moderator whose account was purged: the stand-in id and "deleted.account"
        }
    )
    return LogEntry.model_validate(
        {
            "action": record.action,
            "moderator": summary,
            "case_id": record.case_id,
            "target": LogTarget(type=record.target_type, id=record.target_id),
            "note": record.note,
            "at": record.at,
            "confirmed": not record.unconfirmed,
        }
    )


def open_screening_case(record: PostRecord, labels: list[Label], store: ModerationRepository = _store) -> None:
    """Automatic screening held this post or story: a case for the moderators, with what it saw. Idempotent (a
    retried resize finds the case open), and a target already reported keeps its case, labels added."""
    target_type = TargetType.STORY if record.kind == PostKind.STORY else TargetType.POST
    case_id = case_id_of(target_type, record.post_id)
    now = _now()
    severity = SEVERITY[Reason.NUDITY]
    for _ in range(FILE_ATTEMPTS):
        before = store.case(case_id)
        if before is not None and before.labels:
            return
        if before is None:
            case = CaseRecord(
                case_id=case_id,
                target_type=target_type,
                target_id=record.post_id,
                author_id=record.author_id,
                severity=severity,
                labels=labels,
                opened_at=now,
                updated_at=now,
            )
            if store.open_case(case):
                return
            continue
        after = before.model_copy(
            update={
                "labels": labels,
                "status": CaseStatus.OPEN,
                "severity": max(before.severity, severity),
                "updated_at": now,
                "version": before.version + 1,
            }
        )
        if store.settle(before, after, None):
            return
    raise Conflict("The post's case kept changing; the retry will open it.")
