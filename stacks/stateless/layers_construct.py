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
        code=layer_code(constants.DOMAIN_LAYER_SOURCE_DIR, constants.DOMAIN_LAYER_REQUIREMENTS),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        description="Pinhole domain package and its runtime dependencies",
        removal_policy=RemovalPolicy.RETAIN,  # a function version being rolled back may still use it
    )
