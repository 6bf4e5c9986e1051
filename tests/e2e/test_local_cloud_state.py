"""A tester's data outlives a restart of the local cloud (`make run`): saved on Ctrl-C, restored on
start, `--reset` starts clean, and a damaged snapshot is refused with a clear message, never used."""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import REPO_ROOT, RunningLocalCloud, start_local_cloud
from tests.e2e.test_posts import create_post, photo, settled
from tests.support.api_client import PASSWORD, Member, eventually, upload

pytestmark = pytest.mark.e2e
# Several rounds of every event pump: long enough for a replayed stream record to have been delivered.
PUMP_ROUNDS_S = 2.0


def free_port() -> int:
    """A port for both runs, as `make run` always uses 8000: URLs a client holds stay valid."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def log_in(http: httpx.Client, username: str) -> httpx.Response:
    return http.post("/auth/login", json={"username": username, "password": PASSWORD})


def stop_cleanly(running: RunningLocalCloud) -> str:
    returncode, output = running.stop()
    assert returncode == 0, output
    assert "Traceback" not in output, output
    return output


def what_they_see(alice: Member, bob: Member, post_id: str, conversation_id: str) -> dict[str, Any]:
    """Every surface the two testers used, as the API shows it."""
    return {
        "alice_me": alice.http.get("/me").json(),
        "bob_me": bob.http.get("/me").json(),
        "post": bob.http.get(f"/posts/{post_id}").json(),
        "alice_posts": bob.http.get(f"/users/{alice.username}/posts").json(),
        "bob_feed": bob.http.get("/feed").json(),
        "likes": alice.http.get(f"/posts/{post_id}/likes").json(),
        "comments": alice.http.get(f"/posts/{post_id}/comments").json(),
        "alice_notifications": alice.http.get("/notifications").json(),
        "alice_followers": alice.http.get(f"/users/{alice.username}/followers").json(),
        "alice_conversations": alice.http.get("/conversations").json(),
        "messages": alice.http.get(f"/conversations/{conversation_id}/messages").json(),
        "search": bob.http.get("/search/users", params={"q": alice.username}).json(),
        "tags": bob.http.get("/search/tags", params={"q": "dawn"}).json(),
    }


def test_a_testers_data_is_kept_across_a_restart(tmp_path: Path) -> None:
    # Given a local cloud in which bob follows alice, alice posts a photo, bob likes it, comments and writes to her
    state, port = tmp_path / "state", free_port()
    first = start_local_cloud(tmp_path / "first", port=port, state_dir=state)
    try:
        assert first.http is not None
        alice, bob = Member(first.http), Member(first.http)
        assert bob.http.post(f"/users/{alice.username}/follow").json() == {"status": "following"}
        content = photo((800, 600))
        created = create_post(alice, content)
        assert upload(created["uploads"][0], content).status_code == 204
        post = settled(alice, created["post"]["post_id"])
        assert post["status"] == "published"
        post_id = post["post_id"]
        assert bob.http.post(f"/posts/{post_id}/like").json()["like_count"] == 1
        assert bob.http.post(f"/posts/{post_id}/comments", json={"text": "What light!"}).status_code == 201
        sent = bob.http.post("/messages", json={"to": alice.username, "text": "Coffee tomorrow?"})
        assert sent.status_code == 201, sent.text
        conversation_id = sent.json()["conversation_id"]
        refresh_token = log_in(first.http, bob.username).json()["refresh_token"]
        assert first.http.post("/_local/moderators", json={"username": alice.username}).status_code == 204
        # (the asynchronous parts have landed: the post in bob's feed, alice's notifications)
        eventually(
            lambda: bob.http.get("/feed").json()["items"], lambda items: [p["post_id"] for p in items] == [post_id]
        )
        eventually(lambda: alice.http.get("/notifications").json()["items"], lambda items: len(items) >= 3)
        before = what_they_see(alice, bob, post_id, conversation_id)
        renditions = {name: r["url"] for name, r in post["media"][0]["renditions"].items()}
        media_before = {name: httpx.get(url).content for name, url in renditions.items()}
    finally:
        # When it is stopped with Ctrl-C
        saved = stop_cleanly(first)
    assert "Saved 2 users" in saved

    # And started again with the same state directory
    second = start_local_cloud(tmp_path / "second", port=port, state_dir=state)
    try:
        assert second.http is not None
        # Then it says what it restored, under the same endpoints and user pool (a client's configuration holds)
        assert "restored 2 users" in second.output()
        assert second.outputs == first.outputs
        # And they log in with their password and keep their user ids
        login = log_in(second.http, alice.username)
        assert login.status_code == 200, login.text
        assert login.json()["access_token"]
        # And alice is still a moderator: the group is kept, and her new token carries it
        assert second.http.get("/_local/moderators").json() == {"items": [alice.username]}
        queue = second.http.get(
            "/moderation/queue", headers={"authorization": f"Bearer {login.json()['access_token']}"}
        )
        assert queue.status_code == 200, queue.text
        assert bob.http.get("/moderation/queue").status_code == 403
        assert alice.http.get("/me").json()["user_id"] == alice.user_id  # the old token too
        refreshed = second.http.post("/auth/refresh", json={"refresh_token": refresh_token})
        assert refreshed.status_code == 200, refreshed.text
        # And every surface is as it was, with the media still served byte for byte
        assert what_they_see(alice, bob, post_id, conversation_id) == before
        assert {name: httpx.get(url).content for name, url in renditions.items()} == media_before
        # And nothing restored was delivered again as a new event (no second fan-out or notification)
        time.sleep(PUMP_ROUNDS_S)
        assert what_they_see(alice, bob, post_id, conversation_id) == before
        # And new activity flows through the pipelines as before
        second_post = create_post(alice, content)
        assert upload(second_post["uploads"][0], content).status_code == 204
        new_post_id = settled(alice, second_post["post"]["post_id"])["post_id"]
        eventually(  # the ranked feed: the new post may rank below the liked and commented one
            lambda: [p["post_id"] for p in bob.http.get("/feed").json()["items"]],
            lambda ids: sorted(ids) == sorted([new_post_id, post_id]),
        )
        assert bob.http.post(f"/posts/{post_id}/like").json()["like_count"] == 1  # still idempotent
    finally:
        stop_cleanly(second)


def test_work_still_waiting_at_ctrl_c_is_done_before_the_state_is_saved(tmp_path: Path) -> None:
    # Given bob follows alice and likes her post, and Ctrl-C comes at once, before the notification is written
    state, port = tmp_path / "state", free_port()
    first = start_local_cloud(tmp_path / "first", port=port, state_dir=state)
    try:
        assert first.http is not None
        alice, bob = Member(first.http), Member(first.http)
        content = photo((64, 64))
        created = create_post(alice, content)
        upload(created["uploads"][0], content)
        post_id = settled(alice, created["post"]["post_id"])["post_id"]
        assert bob.http.post(f"/users/{alice.username}/follow").status_code == 200
        assert bob.http.post(f"/posts/{post_id}/like").status_code == 200
    finally:
        stop_cleanly(first)
    # When it starts again
    second = start_local_cloud(tmp_path / "second", port=port, state_dir=state)
    try:
        # Then the follow and like notifications the pumps owed alice are there, once each
        kinds = sorted(n["type"] for n in alice.http.get("/notifications").json()["items"])
        time.sleep(PUMP_ROUNDS_S)
        assert sorted(n["type"] for n in alice.http.get("/notifications").json()["items"]) == kinds
    finally:
        stop_cleanly(second)
    assert kinds == ["follow", "like"]


@pytest.fixture(scope="module")
def saved_state(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A state saved by a clean shutdown: alice, with a published photo. Tests damage copies of it."""
    workdir = tmp_path_factory.mktemp("saved-state")
    running = start_local_cloud(workdir, state_dir=workdir / "state")
    try:
        assert running.http is not None
        alice = Member(running.http)
        content = photo((64, 64))
        created = create_post(alice, content)
        assert upload(created["uploads"][0], content).status_code == 204
        assert settled(alice, created["post"]["post_id"])["status"] == "published"
    finally:
        stop_cleanly(running)
    return workdir / "state", alice.username


def test_reset_starts_clean(tmp_path: Path, saved_state: tuple[Path, str]) -> None:
    # Given a saved state with one user
    state = tmp_path / "state"
    shutil.copytree(saved_state[0], state)
    # When the cloud starts with --reset
    running = start_local_cloud(tmp_path, state_dir=state, extra_args=("--reset",))
    try:
        assert running.http is not None
        # Then nothing of before is there
        assert "starting clean" in running.output()
        refused = log_in(running.http, saved_state[1])
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "invalid_credentials"
    finally:
        output = stop_cleanly(running)
    # And what it saves now is the clean state: no user, no object, and two items, the counters of that failed
    # log-in (per account and source address, and per account: pinhole.auth.login_guard)
    assert "Saved 0 users, 2 items, 0 objects" in output


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(
            lambda state: (state / "snapshot.json").write_text('{"format": "pinhole-local-st'), id="cut-short"
        ),
        pytest.param(lambda state: (state / "snapshot.json").write_text('{"format": "other/9"}'), id="other-format"),
        pytest.param(
            lambda state: [path.write_bytes(b"rot") for path in (state / "objects").iterdir()], id="damaged-object"
        ),
    ],
)
def test_unreadable_state_is_a_one_line_error_naming_reset(
    tmp_path: Path, saved_state: tuple[Path, str], damage: Any
) -> None:
    # Given a saved state (with objects) that is damaged
    state = tmp_path / "state"
    shutil.copytree(saved_state[0], state)
    damage(state)
    kept = {path.name: path.read_bytes() for path in state.rglob("*") if path.is_file()}
    # When the cloud starts on it
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "local",
            "--port",
            "0",
            "--outputs",
            str(tmp_path / "o.json"),
            "--state-dir",
            str(state),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
    )
    # Then it refuses with exit code 2 and one line that names --reset, and leaves the state as it was
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "--reset" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert {path.name: path.read_bytes() for path in state.rglob("*") if path.is_file()} == kept
    assert not (tmp_path / "o.json").exists()
