"""The auth layer (layers/auth: PyJWT) goes to the WebSocket authorizer alone. cryptography, PyJWT's RS256 backend,
is the domain layer's since page cursors are encrypted (pinhole.shared.cursor), so every function carries it once,
the authorizer too: the auth layer, installed without dependencies, does not bring a second copy."""

from pathlib import Path
from typing import Any

from tests.infrastructure.test_functions import _functions_by_service
from tests.infrastructure.test_transcode import _package, _size

CURSOR_CIPHER_PACKAGES = ("cryptography", "cffi", "pycparser")


def _carriers(parts: dict[str, Path], package: str) -> list[str]:
    return [name for name, path in parts.items() if (path / "python" / package).is_dir()]


def test_only_the_websocket_authorizer_carries_jwt(cloud_assembly: Any, stateless: Any) -> None:
    # Given every function's code and layers as staged for deployment
    packages = {context: _package(cloud_assembly, stateless, context) for context in _functions_by_service(stateless)}

    # Then PyJWT is in the authorizer's package, from the auth layer, and in no other function's
    carriers = {context for context, parts in packages.items() if _carriers(parts, "jwt")}
    assert carriers == {"messaging.authorizer"}
    assert [name.split(":")[0] for name in _carriers(packages["messaging.authorizer"], "jwt")] == ["Pinhole auth"]


def test_every_function_carries_cryptography_once_from_the_domain_layer(cloud_assembly: Any, stateless: Any) -> None:
    # Given every function's code and layers as staged for deployment
    packages = {context: _package(cloud_assembly, stateless, context) for context in _functions_by_service(stateless)}

    # Then cryptography is in each package exactly once, the domain layer's (cffi is also the imaging layer's:
    # resize and transcode carry it for Pillow's sake)
    for context, parts in packages.items():
        carriers = _carriers(parts, "cryptography")
        assert len(carriers) == 1 and carriers[0].startswith("Pinhole domain"), (context, carriers)


def test_the_domain_layer_holds_the_cursor_cipher_and_the_auth_layer_pyjwt_alone(
    cloud_assembly: Any, stateless: Any
) -> None:
    # Given the domain layer as staged, and the auth layer
    parts = _package(cloud_assembly, stateless, "messaging.authorizer")
    domain = next(path for name, path in parts.items() if name.startswith("Pinhole domain"))
    auth = next(path for name, path in parts.items() if name.startswith("Pinhole auth"))
    print(f"domain layer {_size(domain) / 2**20:.1f} MiB, auth layer {_size(auth) / 2**20:.2f} MiB")

    # Then the domain layer holds cryptography with its cffi, and the auth layer PyJWT and nothing else
    assert all((domain / "python" / package).is_dir() for package in CURSOR_CIPHER_PACKAGES)
    assert not (domain / "python" / "jwt").exists()
    assert {path.name for path in (auth / "python").iterdir() if path.name != "__pycache__"} == {
        "jwt",
        "pyjwt-2.15.1.dist-info",
    }
