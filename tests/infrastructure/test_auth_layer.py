"""The auth layer (layers/auth: PyJWT + cryptography) goes to the WebSocket authorizer alone: the domain
layer every other function carries holds neither, so their packages are ~17 MB smaller."""

from pathlib import Path
from typing import Any

from tests.infrastructure.test_functions import _functions_by_service
from tests.infrastructure.test_transcode import _package, _size

TOKEN_PACKAGES = ("jwt", "cryptography", "cffi")


def _carries(parts: dict[str, Path], package: str) -> bool:
    return any((path / "python" / package).is_dir() for path in parts.values())


def test_only_the_websocket_authorizer_carries_jwt_and_cryptography(cloud_assembly: Any, stateless: Any) -> None:
    # Given every function's code and layers as staged for deployment
    packages = {context: _package(cloud_assembly, stateless, context) for context in _functions_by_service(stateless)}

    # Then the token packages are in the authorizer's package and in no other function's (cffi is also the
    # imaging layer's: resize and transcode carry it for their own reasons)
    for package in ("jwt", "cryptography"):
        carriers = {context for context, parts in packages.items() if _carries(parts, package)}
        assert carriers == {"messaging.authorizer"}, package
    authorizer = packages["messaging.authorizer"]
    assert any(name.startswith("Pinhole auth") for name in authorizer)


def test_the_domain_layer_lost_the_token_packages(cloud_assembly: Any, stateless: Any) -> None:
    # Given the domain layer as staged, and the auth layer
    parts = _package(cloud_assembly, stateless, "feed_read")
    domain = next(path for name, path in parts.items() if name.startswith("Pinhole domain"))
    auth = next(
        path for name, path in _package(cloud_assembly, stateless, "messaging.authorizer").items() if "auth" in name
    )
    print(f"domain layer {_size(domain) / 2**20:.1f} MiB, auth layer {_size(auth) / 2**20:.1f} MiB")

    # Then the domain layer holds none of them, and the auth layer holds all
    assert not any((domain / "python" / package).exists() for package in TOKEN_PACKAGES)
    assert all((auth / "python" / package).is_dir() for package in TOKEN_PACKAGES)
