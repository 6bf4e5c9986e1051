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
    """Pillow, pillow-heif, blurhash and ffmpeg: only resize carries it, so no API function can load them."""
    return lambda_.LayerVersion(
        scope,
        constants.IMAGING_LAYER_ID,
        code=layer_code(constants.IMAGING_LAYER_REQUIREMENTS),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        description="Pinhole imaging: Pillow, pillow-heif, blurhash, ffmpeg (resize only)",
        removal_policy=RemovalPolicy.RETAIN,
    )
