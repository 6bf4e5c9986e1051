"""Secrets the API functions share: the key page cursors are encrypted and authenticated with (pinhole.shared.cursor
derives its AES-GCM key from it)."""

from aws_cdk import RemovalPolicy
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks import constants


class ApiSecrets(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.cursor_secret = secretsmanager.Secret(
            self,
            constants.CURSOR_SECRET_ID,
            description="Pinhole: key of page cursors (rotating it only invalidates cursors in flight)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True, include_space=False
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )
