"""The Lambda layers, each built locally (stacks/layer_bundling.py) and carried only by the functions that
need it: the domain layer (layers/pinhole: the pinhole package + its pinned runtime dependencies) by all."""

from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks import constants
from stacks.function_factory import ARCHITECTURE, RUNTIME
from stacks.layer_bundling import layer_code


def _layer(scope: Construct, layer_id: str, requirements: str, description: str, **code: Any) -> lambda_.LayerVersion:
    return lambda_.LayerVersion(
        scope,
        layer_id,
        code=layer_code(requirements, **code),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        description=description,
        removal_policy=RemovalPolicy.RETAIN,  # a function version being rolled back may still use it
    )


def domain_layer(scope: Construct) -> lambda_.LayerVersion:
    return _layer(
        scope,
        constants.DOMAIN_LAYER_ID,
        constants.DOMAIN_LAYER_REQUIREMENTS,
        "Pinhole domain package and its runtime dependencies",
        package_dir=constants.DOMAIN_LAYER_SOURCE_DIR,
    )


def imaging_layer(scope: Construct) -> lambda_.LayerVersion:
    """Pillow and blurhash: resize and transcode carry it, so no API function can load them."""
    return _layer(
        scope,
        constants.IMAGING_LAYER_ID,
        constants.IMAGING_LAYER_REQUIREMENTS,
        "Pinhole imaging: Pillow, blurhash (resize, transcode)",
    )


def heif_layer(scope: Construct) -> lambda_.LayerVersion:
    """pillow-heif, over the imaging layer's Pillow: only resize opens HEIC and AVIF uploads."""
    return _layer(
        scope,
        constants.HEIF_LAYER_ID,
        constants.HEIF_LAYER_REQUIREMENTS,
        "Pinhole HEIF: pillow-heif (resize only)",
        with_dependencies=False,
    )


def video_layer(scope: Construct) -> lambda_.LayerVersion:
    """The ffmpeg binary (~125 MB unzipped): only transcode carries it."""
    return _layer(
        scope,
        constants.VIDEO_LAYER_ID,
        constants.VIDEO_LAYER_REQUIREMENTS,
        "Pinhole video: the ffmpeg build of imageio-ffmpeg (transcode only)",
    )


def auth_layer(scope: Construct) -> lambda_.LayerVersion:
    """PyJWT: only the WebSocket authorizer verifies tokens itself (HTTP routes have API Gateway's JWT authorizer).
    Its RS256 backend, cryptography, comes from the domain layer (page cursors are encrypted with it), so PyJWT is
    installed without dependencies, as pillow-heif is over the imaging layer's Pillow."""
    return _layer(
        scope,
        constants.AUTH_LAYER_ID,
        constants.AUTH_LAYER_REQUIREMENTS,
        "Pinhole auth: PyJWT (the WebSocket authorizer only; cryptography is the domain layer's)",
        with_dependencies=False,
    )
