"""docs/SECURITY.md, docs/RELIABILITY.md and docs/LOCAL_CLOUD.md say which test proves each claim: every test they name
must exist, so a renamed or deleted test cannot leave a claim standing on nothing."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["docs/SECURITY.md", "docs/RELIABILITY.md", "docs/LOCAL_CLOUD.md"]
ALIASES = {
    "matrix": "tests/e2e/test_authorization_matrix.py",
    "guarantees": "tests/infrastructure/test_guarantees.py",
    "fuzzing": "tests/e2e/test_api_fuzzing.py",
}
REFERENCE = re.compile(r"^(?P<file>tests/[\w/]+\.py|" + "|".join(ALIASES) + r")?(?:::(?P<test>test_\w+))?$")


def named_tests(text: str) -> list[tuple[str, str | None]]:
    """(file, test or None) for every `code span` that names a test file or a test; a span with only
    `::test_name` continues the file named last."""
    found: list[tuple[str, str | None]] = []
    last_file = ""
    for span in re.findall(r"`([^`\n]+)`", text):
        match = REFERENCE.match(span.strip())
        if not match or not (match["file"] or match["test"]):
            continue
        last_file = ALIASES.get(match["file"], match["file"]) if match["file"] else last_file
        found.append((last_file, match["test"]))
    return found


@pytest.mark.parametrize("doc", DOCS)
def test_every_test_a_doc_names_exists(doc: str) -> None:
    # Given the tests the document names
    references = named_tests((ROOT / doc).read_text())

    # When each is looked up in its file
    missing = [
        f"{file}::{test}" if test else file
        for file, test in references
        if not (ROOT / file).is_file() or (test and not re.search(rf"^def {test}\(", (ROOT / file).read_text(), re.M))
    ]

    # Then every one is there (and the document does name tests)
    assert len(references) >= 20
    assert missing == []
