"""docs/PRIVACY.md names every attribute of every table: the PynamoDB models in the layer (found, not listed, so
a new model is covered too) against the inventory's rows `| <table> | `<attribute>` |`. A table that gains an
attribute fails here until the inventory says what it is, who reads it, how long it lives, and how deletion and
export reach it. And it documents every file of the data export, field by field: the export's models against the
tables under "The files", and the files an export writes against the files documented."""

import importlib
import importlib.util
import io
import pkgutil
import re
import zipfile
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pynamodb.models import Model

import pinhole
from pinhole.privacy.export import AccountData, write_export
from pinhole.privacy.export_files import (
    ExportedAvatar,
    ExportedAvatarUpload,
    ExportedComment,
    ExportedDevice,
    ExportedGroup,
    ExportedLike,
    ExportedMedia,
    ExportedMessage,
    ExportedMessageMedia,
    ExportedNotification,
    ExportedPost,
    ExportedProfile,
    ExportedRelationship,
    ExportedReport,
    ExportedSave,
    ExportedVisit,
    Person,
)
from pinhole.push.models import NotificationSettings

PRIVACY_DOC = Path(__file__).resolve().parents[2] / "docs" / "PRIVACY.md"
_ROW = re.compile(r"^\| (?P<table>[a-z-]+) \| `(?P<attribute>[a-z_0-9]+)` \|", re.MULTILINE)


def _models() -> Iterator[type[Model]]:
    for module in pkgutil.walk_packages(pinhole.__path__, "pinhole."):
        if module.name.rpartition(".")[2].endswith("dal"):  # dal, ranking_dal, ...: where models live
            importlib.import_module(module.name)
    importlib.import_module("pinhole.shared.rate_limits")

    def subclasses(cls: type[Model]) -> Iterator[type[Model]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    yield from (model for model in subclasses(Model) if model.__module__.startswith("pinhole."))


def _table(model: type[Model]) -> str:
    """The table's short name: its name without the `pinhole-` of tests/conftest.py's settings."""
    return str(model.Meta.table_name).removeprefix("pinhole-")


def test_every_attribute_of_every_table_is_in_the_privacy_inventory() -> None:
    named = {(match["table"], match["attribute"]) for match in _ROW.finditer(PRIVACY_DOC.read_text())}
    stored = {(_table(model), attribute) for model in _models() for attribute in model.get_attributes()}
    assert len({table for table, _ in stored}) >= 11  # every table was found (the discovery works)
    missing = sorted(stored - named)
    assert not missing, f"docs/PRIVACY.md does not name: {missing}"


def test_the_inventory_names_no_attribute_that_does_not_exist() -> None:
    named = {(match["table"], match["attribute"]) for match in _ROW.finditer(PRIVACY_DOC.read_text())}
    stored = {(_table(model), attribute) for model in _models() for attribute in model.get_attributes()}
    assert sorted(named - stored) == []


# The export's files: docs/PRIVACY.md's "The files" documents each one, field by field.

_HEADING = re.compile(r"^#### (?P<name>.+)$", re.MULTILINE)
_FIELD = re.compile(r"^\| `(?P<field>[a-z_]+)` \|", re.MULTILINE)
DOCUMENTED_SHAPES: dict[str, type[BaseModel]] = {
    "person": Person,
    "profile.json": ExportedProfile,
    "avatar": ExportedAvatar,
    "avatar upload": ExportedAvatarUpload,
    "posts.json": ExportedPost,
    "media": ExportedMedia,
    "comments.json": ExportedComment,
    "likes.json": ExportedLike,
    "saved.json": ExportedSave,
    "profile_visits.json": ExportedVisit,
    "following.json, followers.json, follow_requests_sent.json, follow_requests_received.json, blocks.json, "
    "mutes.json": ExportedRelationship,
    "messages.json": ExportedMessage,
    "message media": ExportedMessageMedia,
    "groups.json": ExportedGroup,
    "notifications.json": ExportedNotification,
    "devices.json": ExportedDevice,
    "notification_settings.json": NotificationSettings,
    "reports.json": ExportedReport,
}


def _documented_fields() -> dict[str, list[str]]:
    """Each `#### <name>` heading of PRIVACY.md with the fields its table names."""
    text = PRIVACY_DOC.read_text()
    headings = list(_HEADING.finditer(text))
    ends = [heading.start() for heading in headings[1:]] + [len(text)]
    return {
        heading["name"]: [row["field"] for row in _FIELD.finditer(text, heading.end(), end)]
        for heading, end in zip(headings, ends, strict=True)
    }


class _EmptyAccount(AccountData):
    """An account with nothing in it: which files an export writes, whatever the data."""

    def __init__(self) -> None:
        self.user_id = "u-empty"

    def profile(self) -> dict[str, Any]:
        return {}

    def people(self, user_ids: Collection[str]) -> dict[str, Person]:
        return {}

    def _nothing(self, *_: Any) -> Iterator[dict[str, Any]]:
        return iter(())

    posts = comments = likes = saved = profile_visits = conversations = notifications = devices = reports = _nothing

    def edges(self, kind: str, towards_me: bool) -> Iterator[dict[str, Any]]:
        return iter(())

    def original_keys(self) -> Iterator[str]:
        return iter(())

    def notifications_read_up_to(self) -> str:
        return ""

    def notification_settings(self) -> dict[str, Any]:
        return {}


def test_the_privacy_doc_names_every_field_of_every_export_file_and_no_other() -> None:
    documented = _documented_fields()
    for heading, model in DOCUMENTED_SHAPES.items():
        assert sorted(documented.get(heading, [])) == sorted(model.model_fields), heading


def test_the_privacy_doc_documents_every_file_an_export_writes() -> None:
    zipped = io.BytesIO()
    write_export(_EmptyAccount(), zipped)
    written = set(zipfile.ZipFile(zipped).namelist())
    documented = {name for heading in _documented_fields() for name in heading.split(", ") if name.endswith(".json")}
    assert written == documented
