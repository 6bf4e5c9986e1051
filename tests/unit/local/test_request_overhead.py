"""local/request_overhead.py: botocore's user-agent sanitizing computed once per component, with botocore's answers;
moto's request ids drawn directly, the same ids as moto's from the same seed; moto's JSON errors built as moto builds
them, without the XML body they replace."""

import random
import string
from collections.abc import Callable

import botocore.useragent
import pytest
from moto.core import responses
from moto.core.exceptions import JsonRESTError
from moto.moto_api._internal import mock_random
from moto.utilities import aws_headers

from local import request_overhead
from local.fast_dynamodb.moto_contract import MotoChanged

ORIGINAL_SANITIZE = botocore.useragent.sanitize_user_agent_string_component
ORIGINAL_REQUEST_ID = aws_headers.gen_amzn_requestid_long


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


def test_request_ids_are_moto_s_seed_for_seed() -> None:
    request_overhead.install()
    assert responses.gen_amzn_requestid_long is request_overhead.request_id
    for seed in (0, 7, 19):
        mock_random.seed(seed)
        theirs = [ORIGINAL_REQUEST_ID() for _ in range(50)]
        mock_random.seed(seed)
        headers: dict[str, str] = {}
        ours = [request_overhead.request_id(headers) for _ in range(50)]
        assert ours == theirs
        assert headers == {"x-amzn-requestid": ours[-1]}
    mock_random.seed()  # unseeded again, for the tests after this one


def test_json_errors_are_moto_s() -> None:
    from moto.cognitoidp.exceptions import NotAuthorizedError
    from moto.dynamodb.exceptions import ConditionalCheckFailed, ProvidedKeyDoesNotExist, ResourceNotFoundException

    request_overhead.install()
    assert JsonRESTError.__init__ is request_overhead.json_error_init
    makers: list[Callable[[], JsonRESTError]] = [
        ProvidedKeyDoesNotExist,
        lambda: ConditionalCheckFailed(),
        lambda: ResourceNotFoundException("Requested resource not found"),
        lambda: NotAuthorizedError("Incorrect username or password."),
        lambda: JsonRESTError("SomeError", "a message", "ignored", template="x"),
    ]
    for make in makers:
        ours = make()
        JsonRESTError.__init__ = request_overhead.MOTOS_JSON_ERROR_INIT  # type: ignore[method-assign]
        try:
            theirs = make()
        finally:
            JsonRESTError.__init__ = request_overhead.json_error_init  # type: ignore[method-assign]
        assert ours.__dict__ == theirs.__dict__
        assert (ours.code, ours.get_body(), ours.get_headers()) == (
            theirs.code,
            theirs.get_body(),
            theirs.get_headers(),
        )
