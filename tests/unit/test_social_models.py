import pytest
from pydantic import ValidationError

from pinhole.social.models import CreateCommentRequest, SaveRequest


def test_collection_defaults_to_saved_and_is_trimmed() -> None:
    assert SaveRequest().collection == "saved"
    assert SaveRequest.model_validate({"collection": "  Summer 2026 ☀️ "}).collection == "Summer 2026 ☀️"


@pytest.mark.parametrize("name", ["", "  ", "a#b", "tab\there", "x" * 51])
def test_collection_names_that_could_not_be_keys_are_refused(name: str) -> None:
    with pytest.raises(ValidationError):
        SaveRequest.model_validate({"collection": name})


def test_comment_text_is_trimmed_and_bounded() -> None:
    assert CreateCommentRequest.model_validate({"text": " hi "}).text == "hi"
    assert len(CreateCommentRequest.model_validate({"text": "é" * 2200}).text) == 2200
    with pytest.raises(ValidationError):
        CreateCommentRequest.model_validate({"text": "é" * 2201})


def test_collection_names_typed_with_a_combining_accent_are_composed() -> None:
    composed = SaveRequest.model_validate({"collection": "Caf\u00e9"}).collection
    typed_apart = SaveRequest.model_validate({"collection": " Cafe\u0301 "}).collection

    assert composed == typed_apart == "Caf\u00e9"


def test_collection_names_keep_their_case() -> None:
    assert SaveRequest.model_validate({"collection": "Trips"}).collection == "Trips"
    assert SaveRequest.model_validate({"collection": "TRIPS"}).collection == "TRIPS"


def test_a_collection_name_is_measured_once_composed() -> None:
    # 50 letters with a combining accent each: 100 code points as typed, 50 composed
    assert SaveRequest.model_validate({"collection": "e\u0301" * 50}).collection == "\u00e9" * 50
