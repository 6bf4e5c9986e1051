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
