"""mypy analyses only the CDK modules our code imports (pyproject.toml says why): a module imported but not
listed would be typed Any, and every mistake made with it would pass unseen."""

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _mypy_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]


def _followed_cdk_modules() -> set[str]:
    followed: set[str] = set()
    for override in _mypy_config()["overrides"]:
        if override.get("follow_imports") == "normal":
            modules = override["module"]
            followed |= {modules} if isinstance(modules, str) else set(modules)
    return followed


def _checked_files() -> list[Path]:
    roots = {"pinhole": ROOT / "layers/pinhole/pinhole"} | {
        package: ROOT / package for package in _mypy_config()["packages"] if package != "pinhole"
    }
    return [path for root in roots.values() for path in root.rglob("*.py")]


def _cdk_imports(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names if alias.name.split(".")[0] == "aws_cdk"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "aws_cdk":
            modules.add(node.module)
            if node.module == "aws_cdk":  # `from aws_cdk import aws_s3 as s3`: lower-case names are modules
                modules |= {f"aws_cdk.{alias.name}" for alias in node.names if alias.name[0].islower()}
    return modules


def test_every_cdk_module_the_checked_code_imports_is_analysed() -> None:
    imported = {module: path for path in _checked_files() for module in _cdk_imports(path)}
    assert len(imported) > 20  # the stacks are found
    unfollowed = {module: str(path.relative_to(ROOT)) for module, path in imported.items()}
    for module in _followed_cdk_modules():
        unfollowed.pop(module, None)
    assert unfollowed == {}, "add these to the follow_imports = normal override in pyproject.toml"


def test_the_cdk_modules_nothing_imports_are_skipped() -> None:
    skipped = [o for o in _mypy_config()["overrides"] if o.get("follow_imports") == "skip"]
    assert [o["module"] for o in skipped] == ["aws_cdk.*"]
    imported = {module for path in _checked_files() for module in _cdk_imports(path)}
    assert _followed_cdk_modules() - imported == set(), "listed but imported by none of the checked code"
