"""local/request_overhead.py: botocore's user-agent sanitizing computed once per component, with botocore's answers."""

import random
import string

import botocore.useragent
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


def test_another_botocore_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(request_overhead, "_installed", False)
    monkeypatch.setitem(
        request_overhead.WRITTEN_AGAINST, request_overhead.SANITIZER, (ORIGINAL_SANITIZE, "0000000000000000")
    )

    with pytest.raises(MotoChanged, match=request_overhead.SANITIZER):
        request_overhead.install()
