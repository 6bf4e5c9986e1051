"""The domain layer: layers/pinhole (pinhole package + pinned runtime dependencies), built locally."""

from aws_cdk import RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks import constants
from stacks.function_factory import ARCHITECTURE, RUNTIME
from stacks.layer_bundling import layer_code


def domain_layer(scope: Construct) -> lambda_.LayerVersion:
    return lambda_.LayerVersion(
        scope,
        constants.DOMAIN_LAYER_ID,
        code=layer_code(constants.DOMAIN_LAYER_REQUIREMENTS, package_dir=constants.DOMAIN_LAYER_SOURCE_DIR),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        description="Pinhole domain package and its runtime dependencies",
        removal_policy=RemovalPolicy.RETAIN,  # a function version being rolled back may still use it
    )


def imaging_layer(scope: Construct) -> lambda_.LayerVersion:
    """Pillow and blurhash: resize and transcode carry it, so no API function can load them."""
    return lambda_.LayerVersion(
        scope,
        constants.IMAGING_LAYER_ID,
        code=layer_code(constants.IMAGING_LAYER_REQUIREMENTS),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        description="Pinhole imaging: Pillow, blurhash (resize, transcode)",
        removal_policy=RemovalPolicy.RETAIN,
    )


def heif_layer(scope: Construct) -> lambda_.LayerVersion:
    """pillow-heif, over the imaging layer's Pillow: only resize opens HEIC and AVIF uploads."""
    return lambda_.LayerVersion(
        scope,
        constants.HEIF_LAYER_ID,
        code=layer_code(constants.HEIF_LAYER_REQUIREMENTS, with_dependencies=False),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        description="Pinhole HEIF: pillow-heif (resize only)",
        removal_policy=RemovalPolicy.RETAIN,
    )


def video_layer(scope: Construct) -> lambda_.LayerVersion:
    """The ffmpeg binary (~125 MB unzipped): only transcode carries it."""
    return lambda_.LayerVersion(
        scope,
        constants.VIDEO_LAYER_ID,
        code=layer_code(constants.VIDEO_LAYER_REQUIREMENTS),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        description="Pinhole video: the ffmpeg build of imageio-ffmpeg (transcode only)",
        removal_policy=RemovalPolicy.RETAIN,
    )


def auth_layer(scope: Construct) -> lambda_.LayerVersion:
    """PyJWT with cryptography: only the WebSocket authorizer verifies tokens itself (HTTP routes have API
    Gateway's JWT authorizer), so the domain layer every other function carries goes without them."""
    return lambda_.LayerVersion(
        scope,
        constants.AUTH_LAYER_ID,
        code=layer_code(constants.AUTH_LAYER_REQUIREMENTS),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        description="Pinhole auth: PyJWT and cryptography (the WebSocket authorizer only)",
        removal_policy=RemovalPolicy.RETAIN,
    )
