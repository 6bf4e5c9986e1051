"""local/request_overhead.py: botocore's user-agent sanitizing and moto's method lists computed once, with the
same answers as before."""

import random
import string

import botocore.useragent
import moto.core.responses
import moto.core.utils
import pytest

from local import request_overhead
from local.fast_dynamodb.moto_contract import MotoChanged

ORIGINAL_SANITIZE = botocore.useragent.sanitize_user_agent_string_component


def test_the_user_agent_sanitizer_answers_as_botocore_s() -> None:
    request_overhead.install()
    rng = random.Random(19)
    alphabet = string.printable + "#éü/日本"
    samples = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 30))) for _ in range(300)]

    for text in samples + samples:  # the second time from the memo
        for allow_hash in (True, False):
            assert botocore.useragent.sanitize_user_agent_string_component(text, allow_hash) == ORIGINAL_SANITIZE(
                text, allow_hash
            )


def test_a_response_class_s_methods_are_listed_once_and_a_later_one_is_found() -> None:
    listed: list[type] = []

    def list_names(clazz: type) -> list[str]:
        listed.append(clazz)
        return moto.core.utils.method_names_from_class(clazz)

    class Handler:
        def describe_thing(self) -> None: ...

    method_names = request_overhead.remembered_method_names(list_names)

    assert "describe_thing" in method_names(Handler)
    assert "describe_thing" in method_names(Handler)
    assert len(listed) == 1
    Handler.create_thing = lambda self: None  # type: ignore[attr-defined]  # as a patch adds a method
    assert "create_thing" in method_names(Handler)
    assert "delete_thing" not in method_names(Handler)
    assert sorted(method_names(Handler)) == ["create_thing", "describe_thing"]


def test_the_local_cloud_s_moto_answers_through_the_remembered_list() -> None:
    request_overhead.install()

    assert isinstance(moto.core.responses.method_names_from_class(object), request_overhead.MethodNames)


def test_other_sources_stop_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(request_overhead, "_installed", False)
    monkeypatch.setitem(
        request_overhead.WRITTEN_AGAINST,
        "BaseResponse.call_action",
        (moto.core.responses.BaseResponse.call_action, "0000000000000000"),
    )

    with pytest.raises(MotoChanged, match=r"BaseResponse\.call_action"):
        request_overhead.install()
