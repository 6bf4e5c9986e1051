"""The layer's runtime pins must be the very versions the tests and the local cloud run with."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pins(path: Path) -> dict[str, str]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    pairs = (line.split("==") for line in lines if line)
    return {name.split("[")[0].lower(): version for name, version in pairs}


def test_every_requirement_is_pinned_exactly() -> None:
    for path in [ROOT / "requirements.txt", *ROOT.glob("layers/*/requirements.txt")]:
        lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
        assert all("==" in line for line in lines if line), path


def test_layer_pins_match_the_development_pins() -> None:
    development = pins(ROOT / "requirements.txt")
    for layer in ROOT.glob("layers/*/requirements.txt"):
        for name, version in pins(layer).items():
            assert development.get(name) == version, f"{layer}: {name}=={version}"
