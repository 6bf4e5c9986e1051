"""Search through the local cloud: names and hashtags become searchable within seconds of being written,
through the users and posts tables' stream pumps and the search indexer, exactly as on AWS."""

import uuid
from typing import Any

import pytest

from tests.e2e.test_feed import post_photo
from tests.support.api_client import PASSWORD, Member, eventually, from_own_address

pytestmark = pytest.mark.e2e


def usernames(member: Member, q: str) -> list[str]:
    response = member.http.get("/search/users", params={"q": q, "limit": 50})
    assert response.status_code == 200, response.text
    return [user["username"] for user in response.json()["items"]]


def tags(member: Member, q: str) -> list[dict[str, Any]]:
    response = member.http.get("/search/tags", params={"q": q})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def tag_page(member: Member, tag: str, **params: Any) -> dict[str, Any]:
    response = member.http.get(f"/tags/{tag}/posts", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_people_are_found_by_name_whatever_the_accents(local_cloud: Any) -> None:
    # Given José Álvarez, who signs up with his name, and Josefa, who sets hers afterwards
    searcher = Member(local_cloud.http)
    jose = f"jose_{uuid.uuid4().hex[:8]}"
    signed_up = local_cloud.http.post(
        "/auth/signup",
        json={"username": jose, "password": PASSWORD, "email": f"{jose}@example.com", "display_name": "José Álvarez"},
        headers=from_own_address(),
    )
    assert signed_up.status_code == 201, signed_up.text
    josefa = Member(local_cloud.http)
    assert josefa.http.patch("/me", json={"display_name": "Josefa Ñúñez"}).status_code == 200

    # Then plain letters find both, and a surname finds the right one
    eventually(lambda: usernames(searcher, "jose"), lambda found: {jose, josefa.username} <= set(found))
    assert jose in usernames(searcher, "ALVAREZ")
    assert usernames(searcher, "nunez") == [josefa.username]
    # And his exact username comes first
    assert usernames(searcher, jose)[0] == jose


def test_a_block_hides_people_from_each_others_searches(local_cloud: Any) -> None:
    word = f"zz{uuid.uuid4().hex[:8]}"
    blocker, blocked = Member(local_cloud.http), Member(local_cloud.http)
    for member in (blocker, blocked):
        assert member.http.patch("/me", json={"display_name": f"{word.title()} Person"}).status_code == 200
    eventually(lambda: usernames(blocker, word), lambda found: blocked.username in found)

    assert blocker.http.post(f"/users/{blocked.username}/block").status_code == 204

    assert usernames(blocker, word) == [blocker.username]
    assert usernames(blocked, word) == [blocked.username]


def test_a_hashtag_is_found_and_browsed_newest_first(local_cloud: Any) -> None:
    # Given two published photos tagged with a fresh hashtag, in a caption with capitals and an accent
    tag = f"atardecer{uuid.uuid4().hex[:8]}"
    author, reader = Member(local_cloud.http), Member(local_cloud.http)
    first = post_photo(author, f"La playa #{tag.upper()} #Málaga")
    second = post_photo(author, f"Otra vez #{tag}")

    # When the tag's prefix is searched
    found = eventually(lambda: tags(reader, tag[:12]), lambda items: items and items[0]["post_count"] == 2)

    # Then it comes with its post count, and its page lists both, newest first, one page at a time
    assert found == [{"tag": tag, "post_count": 2}]
    page = tag_page(reader, tag, limit=1)
    assert [post["post_id"] for post in page["items"]] == [second]
    assert page["items"][0]["status"] == "published" and page["items"][0]["media"][0]["renditions"]
    rest = tag_page(reader, tag, limit=1, cursor=page["next_cursor"])
    assert [post["post_id"] for post in rest["items"]] == [first]
    assert rest["next_cursor"] is None
    assert "málaga" in [item["tag"] for item in tags(reader, "malaga")]

    # And a deleted post leaves the tag
    assert author.http.delete(f"/posts/{first}").status_code == 204
    eventually(lambda: tags(reader, tag), lambda items: items == [{"tag": tag, "post_count": 1}])
    assert [post["post_id"] for post in tag_page(reader, tag)["items"]] == [second]


def test_a_private_accounts_tagged_posts_are_for_its_followers(local_cloud: Any) -> None:
    tag = f"secret{uuid.uuid4().hex[:8]}"
    owner, stranger = Member(local_cloud.http), Member(local_cloud.http)
    assert owner.http.patch("/me", json={"is_private": True}).status_code == 200
    post_id = post_photo(owner, f"#{tag}")

    eventually(lambda: tag_page(owner, tag)["items"], lambda items: [post["post_id"] for post in items] == [post_id])
    assert tag_page(stranger, tag)["items"] == []
    assert tags(stranger, tag) == [{"tag": tag, "post_count": 1}]
