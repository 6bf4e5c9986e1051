"""Everything an account needs, end to end through the local cloud (issue 14, items 1-7): codes are read
from the local mailbox (`/_local/mail`) as a tester would read their e-mail, TOTP codes are computed by
pyotp as an authenticator app would. Every field of every new object is checked."""

import io
import time
import uuid
from typing import Any

import httpx
import jwt
import pyotp
import pytest
from PIL import Image
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.support.api_client import PASSWORD, Device, Member, eventually, upload

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "Brand-New-Secret-7"
USER_SUMMARY_FIELDS = {"user_id", "username", "display_name", "avatar_url", "avatar"}
USER_FIELDS = USER_SUMMARY_FIELDS | {
    "bio",
    "is_private",
    "follower_count",
    "following_count",
    "post_count",
    "followed_by_me",
    "follow_requested_by_me",
    "created_at",
}
ME_FIELDS = USER_FIELDS | {"email", "email_verified", "mfa_enabled", "avatar_upload"}
POST_FIELDS = {
    "post_id",
    "author",
    "caption",
    "tags",
    "mentions",
    "created_at",
    "status",
    "media",
    "like_count",
    "comment_count",
    "liked_by_me",
    "saved_by_me",
    "edited_at",
}


def picture(kind: str = "PNG", size: tuple[int, int] = (640, 480)) -> bytes:
    image = Image.radial_gradient("L").resize(size).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, kind, **({"exif": b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00"} if kind == "JPEG" else {}))
    return buffer.getvalue()


def mail_for(cloud: Any, username: str, kind: str, after: int = 0) -> list[dict[str, Any]]:
    response = httpx.get(f"{cloud.outputs['HttpApiUrl'].rstrip('/')}/_local/mail", params={"username": username})
    assert response.status_code == 200, response.text
    return [mail for mail in response.json()["items"] if mail["kind"] == kind][after:]


def latest_code(cloud: Any, username: str, kind: str, after: int = 0) -> str:
    found = eventually(lambda: mail_for(cloud, username, kind, after), bool, timeout_s=10)
    return str(found[-1]["code"])


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


def log_in(cloud: Any, username: str, password: str = PASSWORD) -> httpx.Response:
    assert cloud.http is not None
    return cloud.http.post("/auth/login", json={"username": username, "password": password})


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"authorization": f"Bearer {tokens['access_token']}"}


# E-mail verification and passwords


def test_sign_up_sends_a_code_and_verifying_it_marks_the_email_verified(local_cloud: Any) -> None:
    # Given a new account
    member = Member(local_cloud.http)
    me = member.http.get("/me").json()
    assert set(me) == ME_FIELDS
    assert me["email_verified"] is False and me["mfa_enabled"] is False and me["avatar_upload"] is None
    # When the code of the sign-up mail comes back
    code = latest_code(local_cloud, member.username, "verify_email")
    wrong = member.http.post(
        "/auth/verify-email", json={"username": member.username, "code": f"{(int(code) + 1) % 10**6:06d}"}
    )
    right = member.http.post("/auth/verify-email", json={"username": member.username, "code": code})
    again = member.http.post("/auth/verify-email", json={"username": member.username, "code": code})
    # Then only the right code, once, verifies the address
    assert (wrong.status_code, error_code(wrong)) == (401, "invalid_code")
    assert right.status_code == 204, right.text
    assert (again.status_code, error_code(again)) == (401, "invalid_code")
    assert member.http.get("/me").json()["email_verified"] is True


def test_someone_else_cannot_verify_an_address_and_a_malformed_code_is_422(local_cloud: Any) -> None:
    alice, mallory = Member(local_cloud.http), Member(local_cloud.http)
    code = latest_code(local_cloud, alice.username, "verify_email")
    other = mallory.http.post("/auth/verify-email", json={"username": alice.username, "code": code})
    malformed = alice.http.post("/auth/verify-email", json={"username": alice.username, "code": "12ab"})
    assert (other.status_code, error_code(other)) == (403, "forbidden")
    assert (malformed.status_code, error_code(malformed)) == (422, "validation_error")
    assert alice.http.get("/me").json()["email_verified"] is False


def test_changing_the_email_makes_it_unverified_until_the_new_code_comes_back(local_cloud: Any) -> None:
    member = Member(local_cloud.http)
    member.http.post(
        "/auth/verify-email",
        json={"username": member.username, "code": latest_code(local_cloud, member.username, "verify_email")},
    )
    new_address = f"new-{member.username}@example.org"
    changed = member.http.patch("/me", json={"email": new_address, "current_password": PASSWORD})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["email"], changed.json()["email_verified"]) == (new_address, False)
    mails = eventually(lambda: mail_for(local_cloud, member.username, "verify_email", after=1), bool, timeout_s=10)
    assert mails[-1]["to"] == new_address
    verified = member.http.post("/auth/verify-email", json={"username": member.username, "code": mails[-1]["code"]})
    assert verified.status_code == 204
    assert member.http.get("/me").json()["email_verified"] is True


def test_a_forgotten_password_is_reset_with_the_mailed_code_once(local_cloud: Any) -> None:
    # Given an account with a verified address
    member = Member(local_cloud.http)
    member.http.post(
        "/auth/verify-email",
        json={"username": member.username, "code": latest_code(local_cloud, member.username, "verify_email")},
    )
    # When the password is forgotten and reset with the mailed code
    forgot = local_cloud.http.post("/auth/password/forgot", json={"username": member.username})
    assert forgot.status_code == 202
    code = latest_code(local_cloud, member.username, "reset_password")
    weak = local_cloud.http.post(
        "/auth/password/reset", json={"username": member.username, "code": code, "new_password": "short"}
    )
    wrong = local_cloud.http.post(
        "/auth/password/reset",
        json={"username": member.username, "code": f"{(int(code) + 1) % 10**6:06d}", "new_password": NEW_PASSWORD},
    )
    reset = local_cloud.http.post(
        "/auth/password/reset", json={"username": member.username, "code": code, "new_password": NEW_PASSWORD}
    )
    reused = local_cloud.http.post(
        "/auth/password/reset", json={"username": member.username, "code": code, "new_password": "Yet-Another-Pass-8"}
    )
    # Then a weak password is refused naming every rule, a wrong or reused code is 401, the right one works once
    assert weak.status_code == 422
    assert {detail["message"] for detail in weak.json()["error"]["details"]} == {
        "The password needs at least 10 characters.",
        "The password needs an upper-case letter.",
        "The password needs a digit.",
    }
    assert (wrong.status_code, error_code(wrong)) == (401, "invalid_code")
    assert reset.status_code == 204, reset.text
    assert (reused.status_code, error_code(reused)) == (401, "invalid_code")
    assert log_in(local_cloud, member.username, NEW_PASSWORD).status_code == 200
    assert log_in(local_cloud, member.username, PASSWORD).status_code == 401


def test_forgot_password_says_the_same_for_nobody_and_sends_nothing_to_an_unverified_address(local_cloud: Any) -> None:
    unverified = Member(local_cloud.http)
    nobody = local_cloud.http.post("/auth/password/forgot", json={"username": f"nobody{uuid.uuid4().hex[:8]}"})
    someone = local_cloud.http.post("/auth/password/forgot", json={"username": unverified.username})
    assert (nobody.status_code, nobody.json()) == (someone.status_code, someone.json())
    assert nobody.status_code == 202
    time.sleep(0.5)  # a mail would have been written synchronously by the call above; nothing may arrive
    assert mail_for(local_cloud, unverified.username, "reset_password") == []


def test_forgot_and_reset_are_rate_limited_per_account(local_cloud: Any) -> None:
    member = Member(local_cloud.http)
    answers = [
        local_cloud.http.post("/auth/password/forgot", json={"username": member.username}).status_code for _ in range(6)
    ]
    assert answers == [202] * 5 + [429]
    guesses = [
        local_cloud.http.post(
            "/auth/password/reset",
            json={"username": member.username, "code": f"{n:06d}", "new_password": NEW_PASSWORD},
        )
        for n in range(11)
    ]
    assert [guess.status_code for guess in guesses] == [401] * 10 + [429]
    assert int(guesses[-1].headers["retry-after"]) > 0


def test_changing_the_password_needs_the_current_one_and_a_strong_new_one(local_cloud: Any) -> None:
    member = Member(local_cloud.http)
    wrong = member.http.post("/me/password", json={"current_password": "Not-The-One-1", "new_password": NEW_PASSWORD})
    weak = member.http.post("/me/password", json={"current_password": PASSWORD, "new_password": "alllowercase1"})
    changed = member.http.post("/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert (wrong.status_code, error_code(wrong)) == (401, "invalid_credentials")
    assert weak.status_code == 422
    assert weak.json()["error"]["details"] == [
        {"field": "new_password", "message": "The password needs an upper-case letter."}
    ]
    assert changed.status_code == 204
    assert log_in(local_cloud, member.username, NEW_PASSWORD).status_code == 200


# Two-factor


def turn_on_totp(member: Member) -> pyotp.TOTP:
    setup = member.http.post("/me/mfa/totp")
    assert setup.status_code == 200, setup.text
    assert set(setup.json()) == {"secret", "otpauth_uri"}
    totp = pyotp.TOTP(setup.json()["secret"])
    assert pyotp.parse_uri(setup.json()["otpauth_uri"]).secret == totp.secret
    assert setup.json()["otpauth_uri"].startswith(f"otpauth://totp/Pinhole%3A{member.username}?")
    enabled = member.http.post("/me/mfa/totp/verify", json={"code": totp.now(), "password": PASSWORD})
    assert enabled.status_code == 204, enabled.text
    return totp


def next_code(totp: pyotp.TOTP, steps: int = 1) -> str:
    """The code of a later 30 s step (accepted: one step of drift), so a test need not wait for the clock."""
    return str(totp.at(time.time() + 30 * steps))


def test_totp_log_in_gives_tokens_and_a_replayed_code_is_refused(local_cloud: Any) -> None:
    # Given two-factor on
    member = Member(local_cloud.http)
    totp = turn_on_totp(member)
    assert member.http.get("/me").json()["mfa_enabled"] is True
    # When logging in: the password gives a challenge, the code the tokens
    challenge = log_in(local_cloud, member.username)
    assert challenge.status_code == 200
    assert set(challenge.json()) == {"challenge", "session"} and challenge.json()["challenge"] == "totp"
    code = next_code(totp)
    tokens = local_cloud.http.post(
        "/auth/login/totp", json={"username": member.username, "session": challenge.json()["session"], "code": code}
    )
    assert tokens.status_code == 200, tokens.text
    assert set(tokens.json()) == {"access_token", "id_token", "refresh_token", "expires_in", "token_type"}
    assert (
        httpx.get(f"{local_cloud.outputs['HttpApiUrl'].rstrip('/')}/me", headers=bearer(tokens.json())).json()[
            "username"
        ]
        == member.username
    )
    # Then the same code again, in a fresh log-in, is refused; so is a wrong one
    second = log_in(local_cloud, member.username).json()["session"]
    replayed = local_cloud.http.post(
        "/auth/login/totp", json={"username": member.username, "session": second, "code": code}
    )
    wrong = local_cloud.http.post(
        "/auth/login/totp",
        json={"username": member.username, "session": second, "code": f"{(int(next_code(totp, 2)) + 1) % 10**6:06d}"},
    )
    assert (replayed.status_code, error_code(replayed)) == (401, "invalid_code")
    assert (wrong.status_code, error_code(wrong)) == (401, "invalid_code")
    # And so is a right code with a session Cognito never issued
    made_up = local_cloud.http.post(
        "/auth/login/totp", json={"username": member.username, "session": "AYABe" + "x" * 40, "code": next_code(totp)}
    )
    assert (made_up.status_code, error_code(made_up)) == (401, "invalid_code")


def test_a_recovery_code_signs_in_once_and_turns_two_factor_off(local_cloud: Any) -> None:
    member = Member(local_cloud.http)
    turn_on_totp(member)
    wrong_password = member.http.post("/me/mfa/recovery-codes", json={"password": "Not-The-One-1"})
    issued = member.http.post("/me/mfa/recovery-codes", json={"password": PASSWORD})
    assert (wrong_password.status_code, error_code(wrong_password)) == (401, "invalid_credentials")
    assert issued.status_code == 201, issued.text
    codes = issued.json()["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10
    recovery = {"username": member.username, "password": PASSWORD, "recovery_code": codes[0]}
    bad_password = local_cloud.http.post("/auth/login/recovery", json={**recovery, "password": "Not-The-One-1"})
    signed_in = local_cloud.http.post("/auth/login/recovery", json=recovery)
    reused = local_cloud.http.post("/auth/login/recovery", json=recovery)
    assert (bad_password.status_code, error_code(bad_password)) == (401, "invalid_credentials")
    assert signed_in.status_code == 200, signed_in.text
    assert (reused.status_code, error_code(reused)) == (401, "invalid_code")
    assert member.http.get("/me").json()["mfa_enabled"] is False
    assert "access_token" in log_in(local_cloud, member.username).json()  # no challenge any more


def test_turning_two_factor_off_needs_a_current_code(local_cloud: Any) -> None:
    member = Member(local_cloud.http)
    totp = turn_on_totp(member)
    wrong = member.http.request("DELETE", "/me/mfa", json={"code": f"{(int(next_code(totp)) + 1) % 10**6:06d}"})
    off = member.http.request("DELETE", "/me/mfa", json={"code": next_code(totp, 1)})
    assert (wrong.status_code, error_code(wrong)) == (401, "invalid_code")
    assert off.status_code == 204, off.text
    assert member.http.get("/me").json()["mfa_enabled"] is False
    assert "access_token" in log_in(local_cloud, member.username).json()


def test_a_stolen_access_token_cannot_swap_the_authenticator_or_turn_two_factor_off(local_cloud: Any) -> None:
    # Given two-factor on, and an attacker holding the access token only
    member = Member(local_cloud.http)
    authenticator = turn_on_totp(member)
    # When he asks for a new secret, Then it is refused: none exists whose codes he could make
    swapped = member.http.post("/me/mfa/totp")
    assert (swapped.status_code, error_code(swapped)) == (409, "conflict")
    assert swapped.json()["error"]["message"] == "Two-factor is already on: turn it off first."
    made_up = member.http.request("DELETE", "/me/mfa", json={"code": pyotp.TOTP(pyotp.random_base32()).now()})
    assert (made_up.status_code, error_code(made_up)) == (401, "invalid_code")
    assert member.http.get("/me").json()["mfa_enabled"] is True
    assert log_in(local_cloud, member.username).json()["challenge"] == "totp"
    # And the owner's authenticator still turns it off
    off = member.http.request("DELETE", "/me/mfa", json={"code": next_code(authenticator)})
    assert off.status_code == 204, off.text
    assert member.http.get("/me").json()["mfa_enabled"] is False
    # Then, off, asking again is 409 too, and a new secret may be set up
    again = member.http.request("DELETE", "/me/mfa", json={"code": next_code(authenticator, 2)})
    assert (again.status_code, error_code(again), again.json()["error"]["message"]) == (
        409,
        "conflict",
        "Two-factor is not on.",
    )
    assert member.http.post("/me/mfa/totp").status_code == 200


# Sign-out


def test_log_out_revokes_one_refresh_token_and_sign_out_everywhere_all_and_closes_sockets(local_cloud: Any) -> None:
    member = Member(local_cloud.http)
    laptop, phone = log_in(local_cloud, member.username).json(), log_in(local_cloud, member.username).json()
    device = Device(local_cloud.outputs["WebSocketUrl"], member)
    try:
        logged_out = local_cloud.http.post("/auth/logout", json={"refresh_token": laptop["refresh_token"]})
        assert logged_out.status_code == 204
        assert (
            local_cloud.http.post("/auth/refresh", json={"refresh_token": laptop["refresh_token"]}).status_code == 401
        )
        assert local_cloud.http.post("/auth/refresh", json={"refresh_token": phone["refresh_token"]}).status_code == 200
        # and the laptop's access token is refused too (since session 15): every route, and the handshake
        base = local_cloud.outputs["HttpApiUrl"].rstrip("/")
        me = httpx.get(f"{base}/me", headers=bearer(laptop))
        post = httpx.post(
            f"{base}/posts", headers=bearer(laptop), json={"media": [{"content_type": "image/png", "size_bytes": 100}]}
        )
        assert [(r.status_code, error_code(r)) for r in (me, post)] == [(401, "unauthorized")] * 2
        with pytest.raises(InvalidStatus) as laptop_refused:
            connect(f"{local_cloud.outputs['WebSocketUrl']}?token={laptop['access_token']}", open_timeout=10).close()
        assert laptop_refused.value.response.status_code == 401
        assert httpx.get(f"{base}/me", headers=bearer(phone)).status_code == 200
        # (a token issued in the second of a sign-out still counts as after it: let that second pass)
        time.sleep(max(0.0, issued_at(phone["access_token"]) + 1 - time.time()))
        everywhere = httpx.post(
            f"{local_cloud.outputs['HttpApiUrl'].rstrip('/')}/me/sign-out-everywhere", headers=bearer(phone)
        )
        assert everywhere.status_code == 204, everywhere.text
        assert local_cloud.http.post("/auth/refresh", json={"refresh_token": phone["refresh_token"]}).status_code == 401
        with pytest.raises(ConnectionClosed):
            device.connection.recv(timeout=10)
    finally:
        device.close()
    # The HTTP API's JWT authorizer cannot see revocation, but the functions refuse a token issued before the
    # sign-out, on every route (and Cognito, on those that call it)
    base = local_cloud.outputs["HttpApiUrl"].rstrip("/")
    after = httpx.post(
        f"{base}/me/password", headers=bearer(phone), json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert after.status_code == 401
    for path in ("/me", "/feed", "/notifications"):
        read = httpx.get(f"{base}{path}", headers=bearer(phone))
        assert (read.status_code, error_code(read)) == (401, "unauthorized"), path
    with pytest.raises(InvalidStatus) as refused:  # nor does it open a WebSocket again
        connect(f"{local_cloud.outputs['WebSocketUrl']}?token={phone['access_token']}", open_timeout=10).close()
    assert refused.value.response.status_code == 401
    # and a log-in right after works at once
    again = log_in(local_cloud, member.username).json()
    assert httpx.get(f"{base}/me", headers=bearer(again)).status_code == 200


def issued_at(access_token: str) -> int:
    return int(jwt.decode(access_token, options={"verify_signature": False})["iat"])


# Caption edit


def published_post(member: Member, caption: str) -> dict[str, Any]:
    content = picture("JPEG")
    created = member.http.post(
        "/posts", json={"caption": caption, "media": [{"content_type": "image/jpeg", "size_bytes": len(content)}]}
    )
    assert created.status_code == 201, created.text
    assert upload(created.json()["uploads"][0], content).status_code == 204
    post_id = created.json()["post"]["post_id"]
    return dict(
        eventually(lambda: member.http.get(f"/posts/{post_id}").json(), lambda post: post["status"] == "published")
    )


def mentions_of(member: Member, post_id: str) -> list[dict[str, Any]]:
    items = member.http.get("/notifications").json()["items"]
    return [item for item in items if item["type"] == "mention" and item["post_id"] == post_id]


def tag_count(member: Member, tag: str) -> int:
    items = member.http.get("/search/tags", params={"q": tag}).json()["items"]
    return next((item["post_count"] for item in items if item["tag"] == tag), 0)


def test_the_author_edits_a_caption_and_tags_search_and_mentions_follow(local_cloud: Any) -> None:
    alice, bob, carol = Member(local_cloud.http), Member(local_cloud.http), Member(local_cloud.http)
    old_tag, new_tag = f"old{uuid.uuid4().hex[:8]}", f"new{uuid.uuid4().hex[:8]}"
    post = published_post(alice, f"Dawn #{old_tag} with @{bob.username}")
    eventually(lambda: mentions_of(bob, post["post_id"]), bool)
    eventually(lambda: tag_count(carol, old_tag), lambda count: count == 1)
    bob.http.post(f"/posts/{post['post_id']}/like")
    # When someone else tries, then the author edits
    refused = carol.http.patch(f"/posts/{post['post_id']}", json={"caption": "mine now"})
    edited = alice.http.patch(
        f"/posts/{post['post_id']}", json={"caption": f"Dusk #{new_tag} @{bob.username} @{carol.username}"}
    )
    # Then only the author may, and the post shows the new caption and what it names
    assert (refused.status_code, error_code(refused)) == (403, "forbidden")
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert set(body) == POST_FIELDS
    assert body["caption"] == f"Dusk #{new_tag} @{bob.username} @{carol.username}"
    assert (body["tags"], body["mentions"]) == ([new_tag], [bob.username, carol.username])
    assert body["edited_at"] is not None and body["edited_at"].endswith("Z") and body["edited_at"] >= body["created_at"]
    assert (body["like_count"], body["liked_by_me"], body["saved_by_me"]) == (1, False, False)
    assert bob.http.get(f"/posts/{post['post_id']}").json()["liked_by_me"] is True
    # Tag counts and pages move exactly; only the newly mentioned person is told
    eventually(lambda: (tag_count(carol, old_tag), tag_count(carol, new_tag)), lambda counts: counts == (0, 1))
    assert [p["post_id"] for p in carol.http.get(f"/tags/{new_tag}/posts").json()["items"]] == [post["post_id"]]
    assert carol.http.get(f"/tags/{old_tag}/posts").json()["items"] == []
    eventually(lambda: mentions_of(carol, post["post_id"]), bool)
    assert len(mentions_of(bob, post["post_id"])) == 1


def test_a_caption_edit_is_validated_and_a_missing_post_is_404(local_cloud: Any) -> None:
    alice = Member(local_cloud.http)
    post = published_post(alice, "plain")
    too_long = alice.http.patch(f"/posts/{post['post_id']}", json={"caption": "x" * 2201})
    extra = alice.http.patch(f"/posts/{post['post_id']}", json={"caption": "ok", "like_count": 99})
    missing = alice.http.patch("/posts/01NOSUCHPOST0000000000000", json={"caption": "ok"})
    assert (too_long.status_code, extra.status_code, missing.status_code) == (422, 422, 404)
    assert alice.http.get(f"/posts/{post['post_id']}").json()["caption"] == "plain"


# Avatar


def start_avatar(member: Member, content: bytes, content_type: str) -> dict[str, Any]:
    started = member.http.post("/me/avatar", json={"content_type": content_type, "size_bytes": len(content)})
    assert started.status_code == 201, started.text
    assert set(started.json()) == {"upload"} and set(started.json()["upload"]) == {
        "media_id",
        "url",
        "fields",
        "expires_at",
    }
    assert upload(started.json()["upload"], content, content_type=content_type).status_code == 204
    return dict(started.json()["upload"])


def settled_avatar(member: Member, avatar_id: str) -> dict[str, Any]:
    return dict(
        eventually(
            lambda: member.http.get("/me").json(),
            lambda me: (
                me["avatar_upload"] is not None
                and me["avatar_upload"]["avatar_id"] == avatar_id
                and me["avatar_upload"]["status"] != "pending"
            ),
        )
    )


def test_an_avatar_shows_everywhere_old_ones_are_removed_and_a_non_picture_is_refused(local_cloud: Any) -> None:
    alice, bob = Member(local_cloud.http), Member(local_cloud.http)
    # Given a first avatar
    first = start_avatar(alice, picture("JPEG", (800, 600)), "image/jpeg")
    me = settled_avatar(alice, first["media_id"])
    assert me["avatar_upload"] == {
        "avatar_id": first["media_id"],
        "status": "ready",
        "reason": None,
        "reason_code": None,
    }
    avatar = me["avatar"]
    assert set(avatar) == {"url", "width", "height", "blurhash", "renditions"}
    # url, width and height describe one picture: the 150 px square crop, not the 800 x 600 upload (session 14)
    assert (avatar["width"], avatar["height"]) == (150, 150) and avatar["blurhash"]
    assert me["avatar_url"] == avatar["url"] == avatar["renditions"]["medium"]["url"]
    sizes = {name: (r["width"], r["height"], r["content_type"]) for name, r in avatar["renditions"].items()}
    assert sizes == {
        "large": (320, 320, "image/jpeg"),
        "large_webp": (320, 320, "image/webp"),
        "medium": (150, 150, "image/jpeg"),
        "medium_webp": (150, 150, "image/webp"),
        "small": (48, 48, "image/jpeg"),
        "small_webp": (48, 48, "image/webp"),
    }
    served = httpx.get(avatar["url"])
    image = Image.open(io.BytesIO(served.content))
    assert (served.status_code, image.format, image.size) == (200, "JPEG", (150, 150))
    assert not image.getexif()  # metadata stripped
    # It is on every UserSummary and User others see
    assert bob.http.get(f"/users/{alice.username}").json()["avatar"] == avatar
    post = published_post(alice, "hello")
    assert bob.http.get(f"/posts/{post['post_id']}").json()["author"]["avatar_url"] == avatar["url"]
    found = eventually(lambda: bob.http.get("/search/users", params={"q": alice.username}).json()["items"], bool)
    assert found[0]["avatar"] == avatar
    # When a file that is not a picture is uploaded as one
    refused_upload = start_avatar(alice, b"<html>not a picture</html>" * 10, "image/png")
    refused = settled_avatar(alice, refused_upload["media_id"])
    # Then it is refused with a reason and the avatar stays
    assert refused["avatar_upload"]["status"] == "rejected"
    assert refused["avatar_upload"]["reason_code"] == "type_mismatch" and refused["avatar_upload"]["reason"]
    assert refused["avatar"] == avatar
    # A second picture replaces the first, whose renditions stop being served
    second = start_avatar(alice, picture("PNG", (300, 500)), "image/png")
    replaced = settled_avatar(alice, second["media_id"])
    assert replaced["avatar"]["url"] != avatar["url"]
    assert httpx.get(replaced["avatar"]["url"]).status_code == 200
    # (a missing object is 403 behind CloudFront's OAC, as the local media endpoint answers)
    assert all(httpx.get(r["url"]).status_code == 403 for r in avatar["renditions"].values())
    # Removing it leaves no avatar and nothing served
    assert alice.http.delete("/me/avatar").status_code == 204
    gone = alice.http.get("/me").json()
    assert (gone["avatar"], gone["avatar_url"], gone["avatar_upload"]) == (None, None, None)
    assert all(httpx.get(r["url"]).status_code == 403 for r in replaced["avatar"]["renditions"].values())
    assert alice.http.delete("/me/avatar").status_code == 204  # idempotent


def test_an_avatar_upload_is_declared_as_a_photo_of_at_most_10_mb(local_cloud: Any) -> None:
    member = Member(local_cloud.http)
    video = member.http.post("/me/avatar", json={"content_type": "video/mp4", "size_bytes": 1000})
    avif = member.http.post("/me/avatar", json={"content_type": "image/avif", "size_bytes": 1000})
    large = member.http.post("/me/avatar", json={"content_type": "image/jpeg", "size_bytes": 10 * 1024 * 1024 + 1})
    assert (video.status_code, avif.status_code, large.status_code) == (422, 422, 413)
    assert member.http.get("/me").json()["avatar_upload"] is None


# Blocked and muted


def test_mute_takes_posts_and_stories_out_of_the_feed_without_unfollowing_and_the_lists_page(local_cloud: Any) -> None:
    alice, bob, carol = Member(local_cloud.http), Member(local_cloud.http), Member(local_cloud.http)
    assert bob.http.post(f"/users/{alice.username}/follow").status_code == 200
    post = published_post(alice, "for my followers")
    content = picture("JPEG")
    story = alice.http.post("/stories", json={"media": {"content_type": "image/jpeg", "size_bytes": len(content)}})
    assert upload(story.json()["upload"], content).status_code == 204

    def feed_ids() -> list[str]:
        return [item["post_id"] for item in bob.http.get("/feed").json()["items"]]

    def tray_authors() -> list[str]:
        return [item["author"]["username"] for item in bob.http.get("/stories/feed").json()["items"]]

    eventually(feed_ids, lambda ids: post["post_id"] in ids)
    eventually(tray_authors, lambda authors: alice.username in authors)
    # When Bob mutes Alice
    assert bob.http.post(f"/users/{alice.username}/mute").status_code == 204
    assert bob.http.post(f"/users/{alice.username}/mute").status_code == 204  # idempotent
    # Then her post and story leave his feed and tray, the follow stays, and she is told nothing
    assert post["post_id"] not in feed_ids()
    assert alice.username not in tray_authors()
    assert bob.http.get(f"/users/{alice.username}").json()["followed_by_me"] is True
    assert [
        n
        for n in alice.http.get("/notifications").json()["items"]
        if n["actor"]["user_id"] == bob.user_id and n["type"] != "follow"
    ] == []
    muted = bob.http.get("/me/muted").json()
    assert set(muted) == {"items", "next_cursor"}
    assert [(set(u), u["username"]) for u in muted["items"]] == [(USER_SUMMARY_FIELDS, alice.username)]
    # Unmuting brings them back
    assert bob.http.delete(f"/users/{alice.username}/mute").status_code == 204
    assert bob.http.delete(f"/users/{alice.username}/mute").status_code == 204
    assert post["post_id"] in feed_ids() and alice.username in tray_authors()
    assert bob.http.get("/me/muted").json()["items"] == []
    # Muting yourself or nobody
    assert error_code(bob.http.post(f"/users/{bob.username}/mute")) == "cannot_mute_self"
    assert bob.http.post(f"/users/nobody{uuid.uuid4().hex[:8]}/mute").status_code == 404
    # The blocked list pages whom Bob blocked, not who blocked him
    assert bob.http.post(f"/users/{carol.username}/block").status_code == 204
    assert carol.http.post(f"/users/{alice.username}/block").status_code == 204
    first = bob.http.get("/me/blocked", params={"limit": 1}).json()
    assert [(set(u), u["username"]) for u in first["items"]] == [(USER_SUMMARY_FIELDS, carol.username)]
    assert first["next_cursor"] is None  # the page read one more, and says itself the list ends
    assert carol.http.get("/me/blocked").json()["items"][0]["username"] == alice.username
    assert alice.http.get("/me/blocked").json()["items"] == []
