"""Per-user write limits (429 `rate_limited` with Retry-After), configured like cdk.json's
`rate_limits`: each write kind counts on its own, per user, and a refused write changes nothing."""

from typing import Any

import pytest

from functions.social import handler as social
from functions.upload import handler as upload
from functions.users import handler as users
from pinhole.shared import rate_limits
from pinhole.shared.errors import RateLimited
from pinhole.shared.settings import DEFAULT_RATE_LIMITS, get_settings
from tests.support.events import FakeLambdaContext, http_event, response_json
from tests.support.posts import publish
from tests.support.users import sign_up_claims


@pytest.fixture
def one_of_each(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    limits = '{"post": {"limit": 1, "per_seconds": 3600}, "like": {"limit": 1, "per_seconds": 3600}, ' + (
        '"comment": {"limit": 1, "per_seconds": 3600}, "follow": {"limit": 1, "per_seconds": 3600}}'
    )
    monkeypatch.setenv("RATE_LIMITS", limits)
    get_settings.cache_clear()


def call(handler: Any, method: str, path: str, route: str, claims: dict[str, str], **kwargs: Any) -> Any:
    event = http_event(method, path, claims=claims, route_key=f"{method} {route}", **kwargs)
    return handler(event, FakeLambdaContext())


def test_each_kind_of_write_is_limited_on_its_own(one_of_each: None) -> None:
    ann, ben, cat = (sign_up_claims(name) for name in ("ann", "ben", "cat"))
    post_id = publish(ben)
    another = publish(cat)

    def like(target: str) -> Any:
        return call(
            social.handler,
            "POST",
            f"/posts/{target}/like",
            "/posts/{post_id}/like",
            ann,
            path_parameters={"post_id": target},
        )

    def comment(target: str) -> Any:
        return call(
            social.handler,
            "POST",
            f"/posts/{target}/comments",
            "/posts/{post_id}/comments",
            ann,
            path_parameters={"post_id": target},
            body={"text": "nice"},
        )

    def follow(username: str) -> Any:
        return call(
            users.handler,
            "POST",
            f"/users/{username}/follow",
            "/users/{username}/follow",
            ann,
            path_parameters={"username": username},
        )

    def create_post() -> Any:
        body = {"caption": "", "media": [{"content_type": "image/jpeg", "size_bytes": 1000}]}
        return call(upload.handler, "POST", "/posts", "/posts", ann, body=body)

    for first, second in (
        (like(post_id), like(another)),
        (comment(post_id), comment(another)),
        (follow("ben"), follow("cat")),
        (create_post(), create_post()),
    ):
        assert first["statusCode"] in (200, 201)
        assert second["statusCode"] == 429
        assert response_json(second)["error"]["code"] == "rate_limited"
        assert 0 < int(second["headers"]["Retry-After"]) <= 3600
    # the refused like changed nothing
    likes = call(
        social.handler,
        "GET",
        f"/posts/{another}/likes",
        "/posts/{post_id}/likes",
        cat,
        path_parameters={"post_id": another},
    )
    assert response_json(likes)["items"] == []


def test_a_repeated_idempotent_write_does_not_count(one_of_each: None) -> None:
    ann, ben = sign_up_claims("ann"), sign_up_claims("ben")
    for _ in range(3):  # following again is a no-op, not a new follow
        response = call(
            users.handler,
            "POST",
            "/users/ben/follow",
            "/users/{username}/follow",
            ann,
            path_parameters={"username": "ben"},
        )
        assert response["statusCode"] == 200
    del ben


def test_the_window_resets(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_LIMITS", '{"message": {"limit": 2, "per_seconds": 60}}')
    get_settings.cache_clear()
    now = [1_000_040.0]  # 20 s into a 60-second window (1,000,020 is a multiple of 60)

    rate_limits.enforce("u1", "message", clock=lambda: now[0])
    rate_limits.enforce("u1", "message", clock=lambda: now[0])
    with pytest.raises(RateLimited) as refused:
        rate_limits.enforce("u1", "message", clock=lambda: now[0])
    assert refused.value.retry_after_s == 40

    now[0] += 40  # the next window
    rate_limits.enforce("u1", "message", clock=lambda: now[0])


REPORTS_AT_05_58_UTC = 1_700_028_000.0 - 120  # 2023-11-15 06:00:00 UTC is 1,700,028,000


@pytest.mark.parametrize(
    ("limit", "now", "message", "retry_after_s"),
    [
        (
            '{"limit": 20, "per_seconds": 3600}',
            REPORTS_AT_05_58_UTC + 3600,
            "Too many reports: at most 20 in each hour (the count starts again at 07:00 UTC).",
            120,
        ),
        (
            '{"limit": 5, "per_seconds": 900}',
            REPORTS_AT_05_58_UTC + 180,
            "Too many reports: at most 5 in each 15 minutes (the count starts again at 06:15 UTC).",
            900 - 60,
        ),
        (
            '{"limit": 1, "per_seconds": 86400}',
            REPORTS_AT_05_58_UTC,
            "Too many reports: at most 1 in each day (the count starts again at 00:00 UTC).",
            86400 - 6 * 3600 + 120,
        ),
        (
            '{"limit": 2, "per_seconds": 45}',
            REPORTS_AT_05_58_UTC,
            "Too many reports: at most 2 in each 45 seconds (the count starts again at 05:58:30 UTC).",
            30,
        ),
    ],
    ids=["hour", "quarter-hour", "day", "seconds"],
)
def test_a_refusal_says_the_count_is_per_clock_window_and_when_it_starts_again(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch, limit: str, now: float, message: str, retry_after_s: int
) -> None:
    # Given a limit on reports, used up within the current window of the UTC clock
    monkeypatch.setenv("RATE_LIMITS", f'{{"report": {limit}}}')
    get_settings.cache_clear()
    with pytest.raises(RateLimited) as refused:
        for _ in range(rate_limits.limit_for("report").limit + 1):
            rate_limits.enforce("u1", "report", clock=lambda: now)

    # Then the refusal says what holds: a count per window, not per rolling period (the old "at most 20 every
    # 3600 seconds" was false across 06:00), and when it starts again, which is what Retry-After counts down to
    assert (refused.value.message, refused.value.retry_after_s) == (message, retry_after_s)


def test_a_clock_hour_s_limit_may_pass_twice_over_across_its_edge_as_documented(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 20 reports an hour, in clock hours
    monkeypatch.setenv("RATE_LIMITS", '{"report": {"limit": 20, "per_seconds": 3600}}')
    get_settings.cache_clear()
    now = [REPORTS_AT_05_58_UTC]

    # When a reporter files 20 at 05:58 and 20 more at 06:01
    for _ in range(20):
        rate_limits.enforce("u1", "report", clock=lambda: now[0])
    now[0] += 180
    for _ in range(20):
        rate_limits.enforce("u1", "report", clock=lambda: now[0])

    # Then all 40 passed within 3 minutes, and the 41st is refused until 07:00 (docs/API_NOTES.md says so)
    with pytest.raises(RateLimited) as refused:
        rate_limits.enforce("u1", "report", clock=lambda: now[0])
    assert refused.value.retry_after_s == 3600 - 60


def test_a_spaced_action_never_passes_twice_within_its_period_even_across_a_window_s_edge(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RATE_LIMITS", '{"typing": {"limit": 1, "per_seconds": 3}}')
    get_settings.cache_clear()
    now = [1_000_001.9]  # 0.1 s before a 3-second window of `enforce` ends (1,000,002 is a multiple of 3)

    rate_limits.spaced("u1#c1", "typing", clock=lambda: now[0])
    now[0] += 0.2  # in the next fixed window, but 0.2 s after the last one
    with pytest.raises(RateLimited):
        rate_limits.spaced("u1#c1", "typing", clock=lambda: now[0])
    rate_limits.spaced("u1#c2", "typing", clock=lambda: now[0])  # another conversation counts on its own

    now[0] += 2.8  # 3 s after the first
    rate_limits.spaced("u1#c1", "typing", clock=lambda: now[0])


@pytest.mark.parametrize(
    ("action", "words"),
    [
        ("report", "Too many reports:"),
        ("story", "Too many stories:"),
        ("password_change", "Too many password changes:"),
        ("password_forgot_source", "Too many password reset requests from this network:"),
        ("verify_email_send", "Too many verification e-mails:"),
        ("export", "Too many data exports:"),
    ],
)
def test_a_refusal_names_what_it_counts_in_words(aws: dict[str, str], action: str, words: str) -> None:
    # Given an action's limit used up
    with pytest.raises(RateLimited) as refused:
        for _ in range(rate_limits.limit_for(action).limit + 1):
            rate_limits.enforce("u1", action, clock=lambda: REPORTS_AT_05_58_UTC)

    # Then its 429 says what was counted as a person reads it, not the limit's key ("Too many password_changes")
    assert refused.value.message.startswith(words), refused.value.message
    assert "_" not in refused.value.message


def test_every_limit_reads_as_words() -> None:
    assert all("_" not in rate_limits.counted(action) for action in DEFAULT_RATE_LIMITS)
