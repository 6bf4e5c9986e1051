"""docs/PRIVACY.md names every attribute of every table: the PynamoDB models in the layer (found, not listed, so
a new model is covered too) against the inventory's rows `| <table> | `<attribute>` |`. A table that gains an
attribute fails here until the inventory says what it is, who reads it, how long it lives, and how deletion and
export reach it."""

import importlib
import importlib.util
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path

from pynamodb.models import Model

import pinhole

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
