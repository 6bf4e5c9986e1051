"""Moderation on moto: reports racing each other count once each, a held post is released once however many
moderators press restore at the same moment, and every step is in the log."""

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from pydantic import BaseModel

from functions.feed_read import handler as feed_handler
from functions.moderation import handler as moderation_handler
from functions.push import handler as push_handler
from functions.users import handler as users_handler
from pinhole.graph import logic as graph_logic
from pinhole.messaging import logic as messaging
from pinhole.messaging.models import Conversation, CreateConversationRequest, SendMessageRequest
from pinhole.messaging.moderation import set_message_removed
from pinhole.moderation import logic
from pinhole.moderation.dal import ModerationRepository
from pinhole.moderation.models import (
    Action,
    ActionRequest,
    Label,
    LogRecord,
    Reason,
    ReportRequest,
    TargetType,
    case_id_of,
)
from pinhole.posts import logic as posts_logic
from pinhole.posts.dal import PostRepository
from pinhole.posts.models import CreatePostRequest, MediaDeclaration, MediaStatus, PostStatus, StoredLabel, StoredMedia
from pinhole.privacy.dal import AccountRepository, PrivacyModel
from pinhole.privacy.models import UserRef
from pinhole.shared.api import apply_api_conventions, current_caller
from pinhole.shared.caller import MODERATORS_GROUP, Caller
from pinhole.shared.clock import utc_now
from pinhole.shared.errors import NotApplicable, NotFound
from pinhole.upload.keys import UploadKey
from pinhole.users.dal import ProfileRepository, TokenStanding
from tests.support.events import FakeLambdaContext, http_event, response_json
from tests.support.posts import publish
from tests.support.users import sign_up_claims


def _caller(claims: dict[str, str], *groups: str) -> Caller:
    return Caller(user_id=claims["sub"], username=claims["username"], groups=frozenset(groups))


def test_concurrent_reports_each_count_once_and_a_repeat_counts_nothing(aws: Any) -> None:
    # Given a post and eight readers
    author = sign_up_claims("racer")
    post_id = publish(author)
    readers = [_caller(sign_up_claims(f"reader{i}")) for i in range(8)]
    request = ReportRequest(target_type=TargetType.POST, target_id=post_id, reason=Reason.SPAM)

    # When they all report it at once, and the first twice more at the same moment
    callers = [*readers, readers[0], readers[0]]
    with ThreadPoolExecutor(max_workers=len(callers)) as pool:
        receipts = list(pool.map(lambda caller: logic.file_report(caller, request), callers))

    # Then the case counts eight reports, and the first reader's three answers are one report
    case = ModerationRepository().case(case_id_of(TargetType.POST, post_id))
    assert case is not None and (case.report_count, case.reasons) == (8, {"spam": 8})
    assert len({receipt.report_id for receipt, _ in receipts}) == 8
    assert [created for _, created in receipts].count(True) == 8


def test_a_held_post_is_released_once_by_racing_moderators(aws: Any) -> None:
    # Given a post automatic screening held (its one picture flagged), and the case it opened
    author = sign_up_claims("heldauthor")
    caller = _caller(author)
    request = CreatePostRequest(media=[MediaDeclaration(content_type="image/jpeg", size_bytes=1)])
    post = posts_logic.create_post(caller, request).post
    post_id, media_id = post.post_id, post.media[0].media_id
    flagged = StoredMedia(
        media_id=media_id,
        type="image",
        content_type="image/jpeg",
        size_bytes=1,
        status=MediaStatus.READY,
        flagged=[StoredLabel(name="Explicit Nudity", confidence=99.0)],
    )
    labels = [Label(name="Explicit Nudity", confidence=99.0)]
    held = posts_logic.record_media_ready(
        UploadKey(post_id, media_id), flagged, before_hold=lambda record: logic.open_screening_case(record, labels)
    )
    posts = PostRepository()
    assert held == posts.get(post_id).status == PostStatus.IN_REVIEW
    case_id = case_id_of(TargetType.POST, post_id)
    moderators = [_caller(sign_up_claims(f"mod{i}"), MODERATORS_GROUP) for i in range(4)]
    moderator = logic.Moderator(notify=lambda *args, **kwargs: True)

    # When four moderators restore it at once
    def restore(caller: Caller) -> str:
        try:
            moderator.act(caller, case_id, ActionRequest(action=Action.RESTORE, note="fine"))
        except NotApplicable:
            return "refused"
        return "restored"

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(restore, moderators))

    # Then one restore published it, the others were told it no longer applied; the count moved once
    assert sorted(outcomes) == ["refused", "refused", "refused", "restored"]
    assert posts.get(post_id).status == PostStatus.PUBLISHED
    assert ProfileRepository().get(author["sub"]).post_count == 1
    log, _ = logic.moderation_log(moderators[0], 50, None)
    assert [(entry.action, entry.case_id) for entry in log] == [(Action.RESTORE, case_id)]


def _get(handler: Callable[..., dict[str, Any]], path: str, claims: dict[str, str]) -> tuple[int, Any]:
    response = handler(http_event("GET", path, claims=claims, route_key=f"GET {path}"), FakeLambdaContext())
    body = response_json(response)
    return response["statusCode"], body["error"]["code"] if response["statusCode"] >= 400 else body


def test_the_moderators_routes_refuse_anyone_else_whatever_they_send(aws: Any) -> None:
    # Given requests a moderator would be told are malformed (a bad case id, status, limit, action, body type)
    def ask(claims: dict[str, str], method: str, route: str, path: str, body: Any = None, **query: str) -> Any:
        params = {"case_id": path.split("/")[3]} if "{case_id}" in route else None
        event = http_event(
            method, path, claims=claims, body=body, route_key=f"{method} {route}", path_parameters=params
        )
        if query:
            event["queryStringParameters"] = query
            event["rawQueryString"] = "&".join(f"{name}={value}" for name, value in query.items())
        response = moderation_handler.handler(event, FakeLambdaContext())
        return response["statusCode"], response_json(response)["error"]["code"]

    malformed = [
        ("GET", "/moderation/cases/{case_id}", "/moderation/cases/zzz", None, {}),
        ("GET", "/moderation/queue", "/moderation/queue", None, {"status": "bogus"}),
        ("POST", "/moderation/cases/{case_id}/actions", "/moderation/cases/zzz/actions", {"action": "x"}, {}),
        ("GET", "/moderation/log", "/moderation/log", None, {"limit": "0"}),
    ]
    someone, warden = sign_up_claims("curious"), sign_up_claims("warden")
    warden["cognito:groups"] = f"[{MODERATORS_GROUP}]"

    # Then anyone else is refused before what they sent is read, and a moderator is told what is wrong with it
    refused = [ask(someone, method, route, path, body, **query) for method, route, path, body, query in malformed]
    assert refused == [(403, "forbidden")] * 4
    told = [ask(warden, method, route, path, body, **query) for method, route, path, body, query in malformed]
    assert told == [(422, "validation_error")] * 4


def test_a_suspended_users_token_reads_nothing_until_unsuspended(aws: Any) -> None:
    # Given a user whose access token is still good, reported by someone, and a moderator
    claims = sign_up_claims("stilltoken")
    reporter = _caller(sign_up_claims("tattler"))
    logic.file_report(reporter, ReportRequest(target_type=TargetType.USER, target_id=claims["sub"], reason=Reason.SPAM))
    case_id = case_id_of(TargetType.USER, claims["sub"])
    moderator = _caller(sign_up_claims("warden"), MODERATORS_GROUP)
    reads = [(users_handler.handler, "/me"), (feed_handler.handler, "/feed"), (push_handler.handler, "/me/devices")]
    assert [_get(handler, path, claims)[0] for handler, path in reads] == [200, 200, 200]

    # When the moderator suspends them, the token unexpired
    logic.Moderator().act(moderator, case_id, ActionRequest(action=Action.SUSPEND_USER, note="spam"))

    # Then every read with that token is refused, whichever function answers it
    assert [_get(handler, path, claims) for handler, path in reads] == [(403, "account_suspended")] * 3

    # And once unsuspended the same token reads again
    logic.Moderator().act(moderator, case_id, ActionRequest(action=Action.UNSUSPEND_USER, note="appeal"))
    assert [_get(handler, path, claims)[0] for handler, path in reads] == [200, 200, 200]


def test_a_token_issued_before_a_sign_out_everywhere_reads_nothing(aws: Any) -> None:
    # Given a user's access token issued at second 1,000 (API Gateway passes `iat` as a string)
    claims = {**sign_up_claims("signedout"), "iat": "1000"}
    reads = [(users_handler.handler, "/me"), (feed_handler.handler, "/feed"), (push_handler.handler, "/me/devices")]
    assert [_get(handler, path, claims)[0] for handler, path in reads] == [200, 200, 200]

    # When they sign out everywhere in that same second, the token still reads (a log-in right after must work)
    ProfileRepository().signed_out(claims["sub"], 1000)
    assert [_get(handler, path, claims)[0] for handler, path in reads] == [200, 200, 200]

    # And when they sign out everywhere a second later, every read with it is refused, whichever function answers
    ProfileRepository().signed_out(claims["sub"], 1001)
    assert [_get(handler, path, claims) for handler, path in reads] == [(401, "unauthorized")] * 3
    assert _get(users_handler.handler, "/me", {**claims, "iat": "1001"})[0] == 200  # a token issued since


def test_the_suspension_is_read_once_per_request() -> None:
    # Given a resolver whose route asks for the caller three times, and a count of suspension look-ups
    looked_up: list[str] = []
    app = APIGatewayHttpResolver(enable_validation=True)
    apply_api_conventions(app)

    def suspended(user_id: str) -> TokenStanding:
        looked_up.append(user_id)
        return TokenStanding(suspended=False, signed_out_at=None)

    @app.get("/twice")
    def twice() -> dict[str, str]:
        callers = {current_caller(app, suspended).user_id for _ in range(3)}
        return {"callers": ",".join(callers)}

    # When two requests come in
    for _ in range(2):
        event = http_event("GET", "/twice", claims={"sub": "u1", "username": "one"})
        assert app.resolve(event, FakeLambdaContext())["statusCode"] == 200

    # Then the flag was read once for each
    assert looked_up == ["u1", "u1"]


class FailingAfterEffect(ModerationRepository):
    """The store as it is, except that recording the end of an action fails (a throttled write, a timeout)."""

    def complete(self, entry: LogRecord) -> bool:
        if not entry.unconfirmed:
            raise RuntimeError("injected: the log write failed")
        return super().complete(entry)


class FailingBeforeEffect(ModerationRepository):
    def begin(self, entry: LogRecord) -> None:
        raise RuntimeError("injected: the intent write failed")


def _reported_post(name: str) -> tuple[str, str, Caller]:
    author = sign_up_claims(name)
    post_id = publish(author)
    reporter = _caller(sign_up_claims(f"{name}r"))
    logic.file_report(reporter, ReportRequest(target_type=TargetType.POST, target_id=post_id, reason=Reason.SPAM))
    return post_id, case_id_of(TargetType.POST, post_id), _caller(sign_up_claims(f"{name}m"), MODERATORS_GROUP)


def test_an_action_whose_log_write_fails_after_its_effect_is_still_logged(aws: Any) -> None:
    # Given a reported post and a moderation store whose log write fails once the removal has taken effect
    post_id, case_id, moderator = _reported_post("unlogged")
    remove = ActionRequest(action=Action.REMOVE, note="spam")

    # When a moderator removes it and the log write fails
    with pytest.raises(RuntimeError, match="injected"):
        logic.Moderator(store=FailingAfterEffect(), notify=lambda *args, **kwargs: True).act(moderator, case_id, remove)

    # Then the removal took effect, and the log shows it (unconfirmed) once its intent is seen to be stale
    assert PostRepository().get(post_id).status == PostStatus.REMOVED
    log, _ = logic.moderation_log(moderator, 50, None, stale_after=timedelta(0))
    assert [(entry.action, entry.case_id, entry.note, entry.confirmed) for entry in log] == [
        (Action.REMOVE, case_id, "spam", False)
    ]
    # And reading the log again moves nothing twice
    assert logic.reconcile_log(stale_after=timedelta(0)) == 0
    assert len(logic.moderation_log(moderator, 50, None, stale_after=timedelta(0))[0]) == 1


def test_an_intent_still_fresh_is_not_logged_as_unconfirmed(aws: Any) -> None:
    # Given an action whose end failed to be recorded a moment ago (its invocation could still be running)
    _, case_id, moderator = _reported_post("fresh")
    with pytest.raises(RuntimeError, match="injected"):
        logic.Moderator(store=FailingAfterEffect(), notify=lambda *args, **kwargs: True).act(
            moderator, case_id, ActionRequest(action=Action.REMOVE, note="spam")
        )
    # When the log is read with the default grace
    log, _ = logic.moderation_log(moderator, 50, None)
    # Then the entry is not moved yet
    assert log == []


def test_an_action_whose_intent_cannot_be_written_takes_no_effect(aws: Any) -> None:
    # Given a reported post and a store that cannot write the action's intent
    post_id, case_id, moderator = _reported_post("nointent")
    # When a moderator removes it
    with pytest.raises(RuntimeError, match="injected"):
        logic.Moderator(store=FailingBeforeEffect(), notify=lambda *args, **kwargs: True).act(
            moderator, case_id, ActionRequest(action=Action.REMOVE, note="spam")
        )
    # Then nothing happened, and nothing is logged
    assert PostRepository().get(post_id).status == PostStatus.PUBLISHED
    assert logic.moderation_log(moderator, 50, None, stale_after=timedelta(0))[0] == []


def test_a_refused_action_leaves_no_intent_and_no_entry(aws: Any) -> None:
    # Given a published post's case
    _, case_id, moderator = _reported_post("refused")
    # When a moderator tries to restore it (it is not removed)
    with pytest.raises(NotApplicable):
        logic.Moderator(notify=lambda *args, **kwargs: True).act(
            moderator, case_id, ActionRequest(action=Action.RESTORE, note="nothing to restore")
        )
    # Then nothing is logged, now or later
    assert logic.reconcile_log(stale_after=timedelta(0)) == 0
    assert logic.moderation_log(moderator, 50, None, stale_after=timedelta(0))[0] == []


class RecordingPusher:
    def __init__(self) -> None:
        self.frames: list[tuple[list[str], dict[str, Any]]] = []

    def push(self, user_ids: Iterable[str], frame: BaseModel, skip_connection: str | None = None) -> int:
        self.frames.append((sorted(user_ids), frame.model_dump(mode="json", by_alias=True)))
        return 0


def _conversation(caller: Caller, conversation_id: str) -> tuple[list[str], Conversation]:
    texts = [m.text for m in messaging.conversation_messages(caller, conversation_id, 50, None)[0]]
    listed = next(c for c in messaging.conversations(caller, 50, None)[0] if c.conversation_id == conversation_id)
    return texts, listed


def _message_moderator(pusher: RecordingPusher) -> logic.Moderator:
    return logic.Moderator(set_message_removed=partial(set_message_removed, pusher=pusher))


def test_a_removed_direct_message_is_gone_for_both_and_comes_back_on_restore(aws: Any) -> None:
    # Given ann's two messages to bob, the last one abusive and unread, and bob's report of it
    ann, bob = _caller(sign_up_claims("dmann")), _caller(sign_up_claims("dmbob"))
    messaging.send(ann, SendMessageRequest(to="dmbob", text="hello"))
    abuse = messaging.send(ann, SendMessageRequest(to="dmbob", text="abuse"))
    conversation_id = abuse.conversation_id
    target = f"{conversation_id}/{abuse.message_id}"
    logic.file_report(bob, ReportRequest(target_type=TargetType.MESSAGE, target_id=target, reason=Reason.HARASSMENT))
    case_id = case_id_of(TargetType.MESSAGE, target)
    moderator = _caller(sign_up_claims("dmmod"), MODERATORS_GROUP)
    pusher = RecordingPusher()

    # When a moderator removes it
    _message_moderator(pusher).act(moderator, case_id, ActionRequest(action=Action.REMOVE, note="abuse"))

    # Then neither sees it, the preview is the message before, bob's unread count no longer counts it
    texts, bobs = _conversation(bob, conversation_id)
    assert (texts, bobs.last_message and bobs.last_message.text, bobs.unread_count) == (["hello"], "hello", 1)
    texts, anns = _conversation(ann, conversation_id)
    assert (texts, anns.last_message and anns.last_message.text) == (["hello"], "hello")
    # And the moderator still sees it in the case, flagged
    target_seen = logic.case_detail(moderator, case_id).target
    assert target_seen is not None and (target_seen["text"], target_seen["removed"]) == ("abuse", True)
    # And both heard of it as of an unsend
    deleted = {"type": "message_deleted", "conversation_id": conversation_id, "message_id": abuse.message_id}
    assert pusher.frames == [(sorted([ann.user_id, bob.user_id]), deleted)]
    # And a second removal does not apply; nor can the removed message be reported again
    with pytest.raises(NotApplicable):
        _message_moderator(pusher).act(moderator, case_id, ActionRequest(action=Action.REMOVE, note="again"))
    with pytest.raises(NotFound):
        logic.file_report(bob, ReportRequest(target_type=TargetType.MESSAGE, target_id=target, reason=Reason.SPAM))

    # When it is restored
    _message_moderator(pusher).act(moderator, case_id, ActionRequest(action=Action.RESTORE, note="context"))

    # Then it is back for both, the latest again, and unread again for bob
    texts, bobs = _conversation(bob, conversation_id)
    assert (texts, bobs.last_message and bobs.last_message.text, bobs.unread_count) == (["abuse", "hello"], "abuse", 2)
    assert _conversation(ann, conversation_id)[0] == ["abuse", "hello"]
    assert pusher.frames[-1][0] == sorted([ann.user_id, bob.user_id])
    assert (pusher.frames[-1][1]["type"], pusher.frames[-1][1]["message"]["text"]) == ("message", "abuse")
    # And every step is in the log
    log, _ = logic.moderation_log(moderator, 50, None)
    assert [(entry.action, entry.target.id) for entry in log] == [(Action.RESTORE, target), (Action.REMOVE, target)]


def test_a_removed_group_message_is_gone_for_every_member_and_read_counts_stay_exact(aws: Any) -> None:
    # Given a group of three where cid posts a message that dee has read and eve has not, and eve reports it
    cid, dee, eve = (_caller(sign_up_claims(name)) for name in ("grpcid", "grpdee", "grpeve"))
    group = messaging.create_group(cid, CreateConversationRequest(members=["grpdee", "grpeve"]))
    sent = messaging.send(cid, SendMessageRequest(conversation_id=group.conversation_id, text="spam link"))
    messaging.mark_read(dee, group.conversation_id, sent.message_id)
    target = f"{group.conversation_id}/{sent.message_id}"
    logic.file_report(eve, ReportRequest(target_type=TargetType.MESSAGE, target_id=target, reason=Reason.SPAM))
    case_id = case_id_of(TargetType.MESSAGE, target)
    moderator = _caller(sign_up_claims("grpmod"), MODERATORS_GROUP)
    unread = {"dee": _conversation(dee, group.conversation_id)[1].unread_count}
    unread["eve"] = _conversation(eve, group.conversation_id)[1].unread_count

    # When a moderator removes it
    _message_moderator(RecordingPusher()).act(moderator, case_id, ActionRequest(action=Action.REMOVE, note="spam"))

    # Then no member sees it, and eve's unread count dropped by one (dee's, read already, did not move)
    for member in (cid, dee, eve):
        assert "spam link" not in _conversation(member, group.conversation_id)[0]
    assert _conversation(dee, group.conversation_id)[1].unread_count == unread["dee"]
    assert _conversation(eve, group.conversation_id)[1].unread_count == unread["eve"] - 1

    # When it is restored, every count is back where it was
    _message_moderator(RecordingPusher()).act(moderator, case_id, ActionRequest(action=Action.RESTORE, note="ok"))
    for member in (cid, dee, eve):
        assert "spam link" in _conversation(member, group.conversation_id)[0]
    assert _conversation(dee, group.conversation_id)[1].unread_count == unread["dee"]
    assert _conversation(eve, group.conversation_id)[1].unread_count == unread["eve"]


def _deactivated(claims: dict[str, str]) -> None:
    if not PrivacyModel.exists():  # the shared `aws` fixture may come to create it
        PrivacyModel.create_table(wait=True)
    now = utc_now()
    assert AccountRepository().deactivate(UserRef(user_id=claims["sub"], username=claims["username"]), now, now)


def _blocked(blocker: dict[str, str], blocked: dict[str, str]) -> None:
    graph_logic.block(_caller(blocker), blocked["username"])


HIDING = {
    "its sender deactivated": lambda sender, reporter: _deactivated(sender),
    "its sender suspended": lambda sender, reporter: ProfileRepository().set_suspended(sender["sub"], True),
}
BLOCKING = {
    "the reporter blocked its sender": lambda sender, reporter: _blocked(reporter, sender),
    "its sender blocked the reporter": lambda sender, reporter: _blocked(sender, reporter),
}


@pytest.mark.parametrize("hiding", HIDING.values(), ids=HIDING.keys())
def test_a_direct_message_its_recipients_history_hides_is_not_found_to_report(
    aws: Any, hiding: Callable[[dict[str, str], dict[str, str]], object]
) -> None:
    # Given ann's message to bob, which bob may report while he is shown it
    ann_claims, bob_claims = sign_up_claims("hidann"), sign_up_claims("hidbob")
    ann, bob = _caller(ann_claims), _caller(bob_claims)
    kept = messaging.send(ann, SendMessageRequest(to="hidbob", text="first"))
    sent = messaging.send(ann, SendMessageRequest(to="hidbob", text="abuse"))
    first = f"{kept.conversation_id}/{kept.message_id}"
    logic.file_report(bob, ReportRequest(target_type=TargetType.MESSAGE, target_id=first, reason=Reason.SPAM))

    # When it is hidden from him
    hiding(ann_claims, bob_claims)

    # Then his history does not show it, and a report of it is not found, as any target he cannot see
    try:
        shown = [m.message_id for m in messaging.conversation_messages(bob, sent.conversation_id, 50, None)[0]]
    except NotFound:
        shown = []
    assert sent.message_id not in shown
    target = f"{sent.conversation_id}/{sent.message_id}"
    with pytest.raises(NotFound, match=r"No such message\."):
        logic.file_report(bob, ReportRequest(target_type=TargetType.MESSAGE, target_id=target, reason=Reason.SPAM))
    assert ModerationRepository().case(case_id_of(TargetType.MESSAGE, target)) is None


@pytest.mark.parametrize("blocking", BLOCKING.values(), ids=BLOCKING.keys())
def test_a_direct_message_a_block_hides_since_may_still_be_reported(
    aws: Any, blocking: Callable[[dict[str, str], dict[str, str]], object]
) -> None:
    # Given ann's abusive message to bob, and then a block between them (bob blocking first, as someone harassed does)
    ann_claims, bob_claims = sign_up_claims("blkann"), sign_up_claims("blkbob")
    bob = _caller(bob_claims)
    sent = messaging.send(_caller(ann_claims), SendMessageRequest(to="blkbob", text="abuse"))
    blocking(ann_claims, bob_claims)

    # When bob reports the message the block now hides from his history
    target = f"{sent.conversation_id}/{sent.message_id}"
    receipt, filed = logic.file_report(
        bob, ReportRequest(target_type=TargetType.MESSAGE, target_id=target, reason=Reason.SPAM)
    )

    # Then the report is filed: a case about that message, with ann's message as its target
    case = ModerationRepository().case(case_id_of(TargetType.MESSAGE, target))
    assert filed and receipt.report_id and case is not None and case.target_id == target


def test_a_group_message_of_a_suspended_member_is_not_found_to_report_while_one_of_a_blocked_member_is_reported(
    aws: Any,
) -> None:
    # Given a group of three, where fay and gus each post a message, and hal blocked gus since (a block leaves a
    # group as it is: hal still reads gus there), while a moderator suspended fay (hal no longer reads her)
    fay_claims, gus_claims, hal_claims = (sign_up_claims(name) for name in ("grpfay", "grpgus", "grphal"))
    fay, gus, hal = _caller(fay_claims), _caller(gus_claims), _caller(hal_claims)
    group = messaging.create_group(fay, CreateConversationRequest(members=["grpgus", "grphal"]))
    of_fay = messaging.send(fay, SendMessageRequest(conversation_id=group.conversation_id, text="from fay"))
    of_gus = messaging.send(gus, SendMessageRequest(conversation_id=group.conversation_id, text="from gus"))
    graph_logic.block(hal, "grpgus")
    assert ProfileRepository().set_suspended(fay_claims["sub"], True)

    # When hal reports both
    def report(message_id: str) -> None:
        target = f"{group.conversation_id}/{message_id}"
        logic.file_report(hal, ReportRequest(target_type=TargetType.MESSAGE, target_id=target, reason=Reason.SPAM))

    # Then fay's is not found, as it is gone from his history; gus's, shown to him, is reported
    shown = [m.text for m in messaging.conversation_messages(hal, group.conversation_id, 50, None)[0]]
    assert "from fay" not in shown and "from gus" in shown
    with pytest.raises(NotFound, match=r"No such message\."):
        report(of_fay.message_id)
    report(of_gus.message_id)
    case = ModerationRepository().case(case_id_of(TargetType.MESSAGE, f"{group.conversation_id}/{of_gus.message_id}"))
    assert case is not None and (case.author_id, case.report_count) == (gus_claims["sub"], 1)
