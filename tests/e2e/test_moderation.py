"""Issue 17's proof, through the local cloud: reports, one case per target, a moderator's removal and restore
taking effect on every surface with exact counts, a suspension, and the audit log of each step; and automatic
image screening holding a flagged picture `in_review` until a moderator releases it (once)."""

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from websockets.exceptions import InvalidStatus

from local.iam.authorizer import DENIED_MARKER
from tests.e2e.conftest import CDK_OUT, RunningLocalCloud, start_local_cloud
from tests.support.api_client import PASSWORD, Device, Member, eventually, upload

pytestmark = pytest.mark.e2e

CLEAN = (40, 160, 90)
EXPLICIT = (250, 0, 250)
EXPLICIT_LABELS = [
    {"Name": "Explicit Nudity", "ParentName": "", "Confidence": 97.5},
    {"Name": "Nudity", "ParentName": "Explicit Nudity", "Confidence": 96.0},
]


def photo(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(buffer, "JPEG")
    return buffer.getvalue()


def post_photo(member: Member, caption: str, colour: tuple[int, int, int] = CLEAN) -> str:
    content = photo(colour)
    created = member.http.post(
        "/posts", json={"caption": caption, "media": [{"content_type": "image/jpeg", "size_bytes": len(content)}]}
    )
    assert created.status_code == 201, created.text
    assert upload(created.json()["uploads"][0], content).status_code == 204
    return str(created.json()["post"]["post_id"])


def status_of(member: Member, post_id: str) -> str:
    return str(member.http.get(f"/posts/{post_id}").json().get("status"))


def ids(member: Member, path: str) -> list[str]:
    response = member.http.get(path)
    assert response.status_code == 200, response.text
    return [item["post_id"] for item in response.json()["items"]]


def tag_count(member: Member, tag: str) -> int:
    found = member.http.get("/search/tags", params={"q": tag}).json()["items"]
    return next((item["post_count"] for item in found if item["tag"] == tag), 0)


def moderator(cloud: RunningLocalCloud) -> Member:
    """A member made a moderator the local way, logged in again so the token carries the group."""
    assert cloud.http is not None
    member = Member(cloud.http)
    made = cloud.http.post("/_local/moderators", json={"username": member.username})
    assert made.status_code == 204, made.text
    tokens = cloud.http.post("/auth/login", json={"username": member.username, "password": PASSWORD}).json()
    member.http.headers["authorization"] = f"Bearer {tokens['access_token']}"
    return member


def act(member: Member, case_id: str, action: str, note: str) -> httpx.Response:
    return member.http.post(f"/moderation/cases/{case_id}/actions", json={"action": action, "note": note})


def case_of(mod: Member, post_id: str) -> dict[str, Any]:
    queue = mod.http.get("/moderation/queue", params={"limit": 50})
    assert queue.status_code == 200, queue.text
    cases = [case for case in queue.json()["items"] if case["target_id"] == post_id]
    assert len(cases) == 1, queue.json()
    return dict(cases[0])


def notifications(member: Member) -> list[dict[str, Any]]:
    return list(member.http.get("/notifications").json()["items"])


def test_reports_removal_restore_and_suspension_take_effect_everywhere(local_cloud: RunningLocalCloud) -> None:
    # Given an author whose tagged post a follower sees in their feed, on the tag page and in the author's grid
    assert local_cloud.http is not None
    author, follower = Member(local_cloud.http), Member(local_cloud.http)
    reporters = [Member(local_cloud.http) for _ in range(3)]
    mod = moderator(local_cloud)
    tag = f"mod{author.username[1:9]}"
    assert follower.http.post(f"/users/{author.username}/follow").json() == {"status": "following"}
    post_id = post_photo(author, f"look #{tag}")
    eventually(lambda: status_of(author, post_id), lambda status: status == "published")
    assert follower.http.post(f"/posts/{post_id}/like").status_code == 200
    eventually(lambda: ids(follower, "/feed"), lambda found: post_id in found)
    eventually(lambda: ids(follower, f"/tags/{tag}/posts"), lambda found: found == [post_id])
    assert tag_count(follower, tag) == 1
    assert ids(follower, f"/users/{author.username}/posts") == [post_id]
    assert follower.http.get(f"/users/{author.username}").json()["post_count"] == 1

    # When three users report it (and one repeats)
    reasons = ["nudity", "spam", "nudity"]
    receipts = []
    for reporter, reason in zip(reporters, reasons, strict=True):
        filed = reporter.http.post("/reports", json={"target_type": "post", "target_id": post_id, "reason": reason})
        assert filed.status_code == 202, filed.text
        receipts.append(filed.json()["report_id"])
    repeat = reporters[0].http.post("/reports", json={"target_type": "post", "target_id": post_id, "reason": "hate"})
    assert (repeat.status_code, repeat.json()) == (200, {"report_id": receipts[0]})

    # Then a moderator sees one case with three reports; nobody else sees the queue
    case = case_of(mod, post_id)
    assert (case["report_count"], case["reasons"], case["status"]) == (3, {"nudity": 2, "spam": 1}, "open")
    assert case["author"]["username"] == author.username
    for outsider in (author, follower, reporters[0]):
        assert outsider.http.get("/moderation/queue").status_code == 403
        assert act(outsider, case["case_id"], "remove", "not mine to do").status_code == 403
    detail = mod.http.get(f"/moderation/cases/{case['case_id']}").json()
    assert sorted(report["report_id"] for report in detail["reports"]) == sorted(receipts)
    assert detail["target"]["post_id"] == post_id

    # When the moderator removes it: gone from the feed, the tag page, search and the grid; the author is told
    removed = act(mod, case["case_id"], "remove", "Nudity is not allowed here")
    assert removed.status_code == 200, removed.text
    assert removed.json()["status"] == "actioned" and removed.json()["target"]["status"] == "removed"
    eventually(lambda: ids(follower, "/feed"), lambda found: post_id not in found)
    eventually(lambda: tag_count(follower, tag), lambda count: count == 0)
    assert ids(follower, f"/tags/{tag}/posts") == []
    assert ids(follower, f"/users/{author.username}/posts") == []
    assert follower.http.get(f"/posts/{post_id}").status_code == 404
    assert status_of(author, post_id) == "removed"
    assert author.http.get("/me").json()["post_count"] == 0
    notice = eventually(
        lambda: [n for n in notifications(author) if n["type"] == "content_removed"], lambda found: len(found) == 1
    )[0]
    assert (notice["post_id"], notice["reason"], notice["actor"]) == (post_id, "Nudity is not allowed here", None)
    mine = reporters[0].http.get("/me/reports").json()["items"]
    assert [(r["report_id"], r["status"]) for r in mine] == [(receipts[0], "actioned")]
    assert act(mod, case["case_id"], "remove", "again").status_code == 409

    # When the moderator restores it: back everywhere, every count as it was
    restored = act(mod, case["case_id"], "restore", "Reviewed again: artistic, allowed")
    assert restored.status_code == 200, restored.text
    eventually(lambda: ids(follower, "/feed"), lambda found: post_id in found)
    eventually(lambda: tag_count(follower, tag), lambda count: count == 1)
    assert ids(follower, f"/tags/{tag}/posts") == [post_id]
    assert ids(follower, f"/users/{author.username}/posts") == [post_id]
    back = next(post for post in follower.http.get("/feed").json()["items"] if post["post_id"] == post_id)
    assert (back["status"], back["like_count"], back["liked_by_me"]) == ("published", 1, True)
    assert author.http.get("/me").json()["post_count"] == 1
    assert act(mod, case["case_id"], "restore", "twice").status_code == 409

    # When the moderator suspends the author: no log-in, no writes, no trace of them, no messages to them
    assert act(mod, case["case_id"], "suspend_user", "Repeated nudity").status_code == 200
    login = local_cloud.http.post("/auth/login", json={"username": author.username, "password": PASSWORD})
    assert (login.status_code, login.json()["error"]["code"]) == (403, "account_suspended")
    assert author.http.post("/messages", json={"to": follower.username, "text": "hi"}).status_code == 403
    assert (
        author.http.post("/posts", json={"media": [{"content_type": "image/jpeg", "size_bytes": 10}]}).status_code
        == 403
    )
    assert follower.http.post("/messages", json={"to": author.username, "text": "hi"}).status_code == 404
    # And the author's unexpired access token reads nothing either
    for path in ("/me", "/feed", "/notifications", "/conversations"):
        refused = author.http.get(path)
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "account_suspended"), path
    with pytest.raises(InvalidStatus):  # nor opens a WebSocket
        Device(str(local_cloud.outputs["WebSocketUrl"]), author)
    assert follower.http.get(f"/users/{author.username}").status_code == 404
    assert follower.http.get(f"/posts/{post_id}").status_code == 404
    assert post_id not in ids(follower, "/feed")
    assert ids(follower, f"/tags/{tag}/posts") == []
    found = follower.http.get("/search/users", params={"q": author.username}).json()["items"]
    assert author.username not in [user["username"] for user in found]
    assert act(mod, case["case_id"], "suspend_user", "twice").status_code == 409

    # When the moderator lifts it: the author logs in and everything is back
    assert act(mod, case["case_id"], "unsuspend_user", "Appeal accepted").status_code == 200
    login = local_cloud.http.post("/auth/login", json={"username": author.username, "password": PASSWORD})
    assert login.status_code == 200, login.text
    assert follower.http.get(f"/users/{author.username}").json()["post_count"] == 1
    assert post_id in ids(follower, "/feed")
    assert ids(follower, f"/tags/{tag}/posts") == [post_id]

    # Then the audit log holds each step: who, what, when, why
    log = mod.http.get("/moderation/log", params={"limit": 50}).json()["items"]
    steps = [(entry["action"], entry["note"]) for entry in log if entry["case_id"] == case["case_id"]]
    assert steps == [
        ("unsuspend_user", "Appeal accepted"),
        ("suspend_user", "Repeated nudity"),
        ("restore", "Reviewed again: artistic, allowed"),
        ("remove", "Nudity is not allowed here"),
    ]
    assert {entry["moderator"]["username"] for entry in log if entry["case_id"] == case["case_id"]} == {mod.username}
    assert all(entry["at"].endswith("Z") for entry in log)
    assert follower.http.get("/moderation/log").status_code == 403


def test_reports_only_of_what_the_reporter_can_see(local_cloud: RunningLocalCloud) -> None:
    assert local_cloud.http is not None
    author, stranger, other = Member(local_cloud.http), Member(local_cloud.http), Member(local_cloud.http)
    sent = author.http.post("/messages", json={"to": other.username, "text": "between us"}).json()
    message_target = f"{sent['conversation_id']}/{sent['message_id']}"
    body = {"target_type": "message", "target_id": message_target, "reason": "harassment"}
    assert stranger.http.post("/reports", json=body).status_code == 404  # not a participant
    assert other.http.post("/reports", json=body).status_code == 202
    assert author.http.post("/reports", json=body).status_code == 422  # one's own message
    missing = {"target_type": "post", "target_id": "01JAAAAAAAAAAAAAAAAAAAAAAA", "reason": "spam"}
    assert stranger.http.post("/reports", json=missing).status_code == 404
    user = {"target_type": "user", "target_id": author.user_id, "reason": "spam", "note": "n" * 1001}
    assert stranger.http.post("/reports", json=user).status_code == 422


def test_a_removed_comment_leaves_the_list_and_the_count_until_restored(local_cloud: RunningLocalCloud) -> None:
    # Given a comment on a published post, reported by a reader
    assert local_cloud.http is not None
    author, commenter, reader = Member(local_cloud.http), Member(local_cloud.http), Member(local_cloud.http)
    mod = moderator(local_cloud)
    post_id = post_photo(author, "comments welcome")
    eventually(lambda: status_of(author, post_id), lambda status: status == "published")
    comment_id = commenter.http.post(f"/posts/{post_id}/comments", json={"text": "rude words"}).json()["comment_id"]
    target = {"target_type": "comment", "target_id": f"{post_id}/{comment_id}", "reason": "harassment"}
    assert reader.http.post("/reports", json=target).status_code == 202
    case = case_of(mod, f"{post_id}/{comment_id}")

    def comments() -> list[str]:
        return [c["comment_id"] for c in reader.http.get(f"/posts/{post_id}/comments").json()["items"]]

    def about_the_comment() -> tuple[list[str], int]:
        found = [n["type"] for n in notifications(author) if n.get("comment_id") == comment_id]
        return found, author.http.get("/notifications/unread-count").json()["count"]

    assert eventually(about_the_comment, lambda seen: seen == (["comment"], 1))

    # When a moderator removes it: gone from the list and the count; its author is told; it cannot be reported
    assert act(mod, case["case_id"], "remove", "Harassment").status_code == 200
    assert comments() == []
    # And the post's author's notification of it is taken back, their badge with it
    assert eventually(about_the_comment, lambda seen: seen == ([], 0))
    assert reader.http.get(f"/posts/{post_id}").json()["comment_count"] == 0
    notice = eventually(lambda: notifications(commenter), lambda found: len(found) == 1)[0]
    assert (notice["type"], notice["comment_id"], notice["reason"]) == ("content_removed", comment_id, "Harassment")
    assert reader.http.post("/reports", json={**target, "reason": "spam"}).status_code == 404

    # When it is restored: back, counted once; deleting it then counts it out once
    assert act(mod, case["case_id"], "restore", "Banter between friends").status_code == 200
    assert comments() == [comment_id]
    assert eventually(about_the_comment, lambda seen: seen == (["comment"], 1))
    assert reader.http.get(f"/posts/{post_id}").json()["comment_count"] == 1
    assert act(mod, case["case_id"], "remove", "On reflection, no").status_code == 200
    assert commenter.http.delete(f"/posts/{post_id}/comments/{comment_id}").status_code == 204
    assert reader.http.get(f"/posts/{post_id}").json()["comment_count"] == 0


def test_a_removed_message_is_gone_for_both_live_and_comes_back_on_restore(local_cloud: RunningLocalCloud) -> None:
    # Given ann's message to ben, open on ben's phone, reported by ben
    assert local_cloud.http is not None
    ann, ben = Member(local_cloud.http), Member(local_cloud.http)
    mod = moderator(local_cloud)
    ben_phone = Device(str(local_cloud.outputs["WebSocketUrl"]), ben)
    sent = ann.http.post("/messages", json={"to": ben.username, "text": "you will regret it"}).json()
    conversation_id, message_id = sent["conversation_id"], sent["message_id"]
    assert ben_phone.next("message")["message"]["message_id"] == message_id
    target = f"{conversation_id}/{message_id}"
    report = {"target_type": "message", "target_id": target, "reason": "harassment"}
    assert ben.http.post("/reports", json=report).status_code == 202
    case = case_of(mod, target)

    def history(member: Member) -> list[str]:
        page = member.http.get(f"/conversations/{conversation_id}/messages")
        assert page.status_code == 200, page.text
        return [message["message_id"] for message in page.json()["items"]]

    # When a moderator removes it: gone for both, ben's phone told as of an unsend, unread no more
    assert act(mod, case["case_id"], "remove", "Threats").status_code == 200
    assert ben_phone.next("message_deleted") == {
        "type": "message_deleted",
        "conversation_id": conversation_id,
        "message_id": message_id,
    }
    assert history(ben) == history(ann) == []
    listed = ben.http.get("/conversations").json()["items"]
    assert [(c["conversation_id"], c["unread_count"], c["last_message"]) for c in listed] == [
        (conversation_id, 0, None)
    ]
    assert act(mod, case["case_id"], "remove", "again").status_code == 409

    # When it is restored: back for both, on ben's phone, unread again
    assert act(mod, case["case_id"], "restore", "Quoting a film").status_code == 200
    assert ben_phone.next("message")["message"]["message_id"] == message_id
    assert history(ben) == history(ann) == [message_id]
    listed = ben.http.get("/conversations").json()["items"]
    assert [(c["unread_count"], c["last_message"]["message_id"]) for c in listed] == [(1, message_id)]
    steps = [e["action"] for e in mod.http.get("/moderation/log").json()["items"] if e["case_id"] == case["case_id"]]
    assert steps == ["restore", "remove"]


# -- automatic screening: a local cloud whose template has `image_moderation` on --


def _screening_cdk_out(target: Path) -> Path:
    """cdk.out as `cdk synth -c image_moderation=true` makes it: the switch is one variable of every function
    (the grant is there either way: tests/infrastructure/test_moderation.py), so the assets are shared."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in CDK_OUT.iterdir():
        if entry.name.endswith(".template.json"):
            template = json.loads(entry.read_text())
            for resource in template.get("Resources", {}).values():
                variables = resource.get("Properties", {}).get("Environment", {}).get("Variables", {})
                if "IMAGE_MODERATION" in variables:
                    variables["IMAGE_MODERATION"] = "true"
            (target / entry.name).write_text(json.dumps(template))
        else:
            os.symlink(entry, target / entry.name)
    return target


@pytest.fixture(scope="module")
def screening_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLocalCloud]:
    if not (CDK_OUT / "manifest.json").is_file():
        pytest.skip(f"{CDK_OUT} has no manifest.json: synthesize with `make synth`")
    workdir = tmp_path_factory.mktemp("screening-cloud")
    running = start_local_cloud(workdir, cdk_out=_screening_cdk_out(workdir / "cdk.out"))
    yield running
    returncode, output = running.stop()
    assert returncode == 0, output
    assert "Traceback" not in output and DENIED_MARKER not in output, output


def test_a_flagged_picture_is_held_until_a_moderator_releases_it_once(screening_cloud: RunningLocalCloud) -> None:
    assert screening_cloud.http is not None
    rules = {"rules": [{"colour": list(EXPLICIT), "labels": EXPLICIT_LABELS}]}
    assert screening_cloud.http.put("/_local/rekognition/rules", json=rules).status_code == 204
    author, follower = Member(screening_cloud.http), Member(screening_cloud.http)
    mod = moderator(screening_cloud)
    follower.http.post(f"/users/{author.username}/follow")

    # When the author posts a picture the screen labels explicit, then a clean one
    held = post_photo(author, "held", EXPLICIT)
    eventually(lambda: status_of(author, held), lambda status: status == "in_review")
    clean = post_photo(author, "clean", CLEAN)
    eventually(lambda: status_of(author, clean), lambda status: status == "published")

    # Then the clean one reaches the feed and the held one does not (it was processed first)
    feed = eventually(lambda: ids(follower, "/feed"), lambda found: clean in found)
    assert held not in feed
    assert follower.http.get(f"/posts/{held}").status_code == 404
    assert ids(follower, f"/users/{author.username}/posts") == [clean]
    assert author.http.get("/me").json()["post_count"] == 1

    # And a case waits with what the screen saw
    case = case_of(mod, held)
    assert case["report_count"] == 0
    assert [(label["name"], label["confidence"]) for label in case["labels"]] == [
        ("Explicit Nudity", 97.5),
        ("Nudity", 96.0),
    ]
    assert act(mod, case["case_id"], "dismiss", "held posts are restored or removed").status_code == 409

    # When the moderator restores it: published once, in the feed, counted once
    assert act(mod, case["case_id"], "restore", "A classical statue").status_code == 200
    assert act(mod, case["case_id"], "restore", "again").status_code == 409
    eventually(lambda: ids(follower, "/feed"), lambda found: found[:2] == [clean, held])
    assert status_of(follower, held) == "published"
    assert author.http.get("/me").json()["post_count"] == 2
    assert ids(follower, f"/users/{author.username}/posts") == [clean, held]
    assert screening_cloud.http.delete("/_local/rekognition/rules").status_code == 204
