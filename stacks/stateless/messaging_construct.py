"""messaging: direct and group conversations over HTTP (JWT routes) and over the WebSocket API, whose
`$connect` runs this context's REQUEST authorizer. Photo messages: uploads signed for the uploads
bucket under `messages/`, renditions read through pre-signed GETs of the private message media bucket.
Four functions from one code directory, each importing only its own entry module: `handler` (HTTP), `websocket`
(WebSocket routes), `authorizer`, and `sweep`, which refuses, every five minutes, the photo and video messages whose
upload never arrived."""

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks import constants
from stacks.function_factory import FunctionFactory
from stacks.stateless.api_construct import HttpApiGateway, WebSocketGateway
from stacks.stateless.grants import (
    grant_message_media,
    grant_objects,
    grant_prefix_listing,
    grant_table_read,
    grant_table_read_write,
)
from stacks.stateless.schedules import run_every

CODE_DIR = f"{constants.FUNCTIONS_DIR}/{constants.MESSAGING}"
GET, POST = apigwv2.HttpMethod.GET, apigwv2.HttpMethod.POST
PATCH, DELETE = apigwv2.HttpMethod.PATCH, apigwv2.HttpMethod.DELETE
HTTP_ROUTES = (
    (POST, "/messages"),
    (GET, "/conversations"),
    (POST, "/conversations"),
    (PATCH, "/conversations/{conversation_id}"),
    (GET, "/conversations/{conversation_id}/messages"),
    (DELETE, "/conversations/{conversation_id}/messages/{message_id}"),
    (POST, "/conversations/{conversation_id}/members"),
    (DELETE, "/conversations/{conversation_id}/members/{username}"),
    (POST, "/conversations/{conversation_id}/read"),
    (POST, "/conversations/{conversation_id}/mute"),
    (DELETE, "/conversations/{conversation_id}/mute"),
)
FRAME_ROUTES = ("$disconnect", "sendMessage", "markRead", "typing", "ping", "$default")
TWO_WAY_ROUTES = ("sendMessage", "markRead", "typing", "ping", "$default")  # ack, error, pong frames
SWEEP_EVERY = Duration.minutes(5)


class Messaging(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        http_api: HttpApiGateway,
        websocket_api: WebSocketGateway,
        tables: Mapping[str, dynamodb.ITableV2],
        cursor_secret: secretsmanager.ISecret,
        uploads_bucket: s3.IBucket,
        message_media_bucket: s3.IBucket,
        auth_layer: lambda_.ILayerVersion,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = factory.create(self, context=constants.MESSAGING, code_dir=CODE_DIR)
        self.websocket = factory.create(
            Construct(self, "WebSocket"), context=constants.MESSAGING, code_dir=CODE_DIR, handler="websocket.handler"
        )
        for function in (self.function, self.websocket):
            self._grant_messaging(function, tables, websocket_api)
            # Photo and video messages: sign their uploads, sign members' reads, delete a message's (its uploaded
            # file too) or a conversation's.
            uploads = ["s3:PutObject", "s3:DeleteObject"]
            grant_objects(function, uploads_bucket, f"{constants.MESSAGE_UPLOAD_KEY_PREFIX}*", uploads)
            grant_prefix_listing(function, uploads_bucket, f"{constants.MESSAGE_UPLOAD_KEY_PREFIX}*")
            grant_message_media(function, message_media_bucket, ["s3:GetObject"])
        cursor_secret.grant_read(self.function)
        grant_table_read_write(self.function, tables["idempotency"])  # Idempotency-Key on a group's creation
        http_api.add_routes(self.function, HTTP_ROUTES, public=False)

        self.authorizer = factory.create(
            Construct(self, "Authorizer"),
            context=constants.MESSAGING,
            code_dir=CODE_DIR,
            handler="authorizer.handler",
            extra_layers=(auth_layer,),  # it alone verifies tokens (PyJWT, over the domain layer's cryptography)
        )
        # a suspended user's token connects nothing: one GetItem of their profile's flag
        self.authorizer.add_to_role_policy(
            iam.PolicyStatement(actions=["dynamodb:GetItem"], resources=[tables["users"].table_arn])
        )
        websocket_api.add_connect_route(self.websocket, self.authorizer)
        websocket_api.add_routes(self.websocket, FRAME_ROUTES, two_way=TWO_WAY_ROUTES)

        sweep_scope = Construct(self, "Sweep")
        self.sweep = factory.create(
            sweep_scope, context=constants.MESSAGING, code_dir=CODE_DIR, handler="sweep.handler"
        )
        grant_table_read_write(self.sweep, tables["messages"], index_names=[constants.MESSAGES_PENDING_INDEX])
        grant_table_read_write(self.sweep, tables["connections"])  # the refusal is pushed to its sender
        grant_table_read(self.sweep, tables["users"])
        websocket_api.grant_manage_connections(self.sweep)
        # a message whose sender left its group meanwhile is dropped instead, with what was stored for it
        grant_objects(self.sweep, uploads_bucket, f"{constants.MESSAGE_UPLOAD_KEY_PREFIX}*", ["s3:DeleteObject"])
        grant_message_media(self.sweep, message_media_bucket, [])
        refuse = "Refuse photo and video messages whose upload never arrived"
        self.sweep_schedule = run_every(sweep_scope, self.sweep, SWEEP_EVERY, refuse)

    @staticmethod
    def _grant_messaging(
        function: lambda_.Function, tables: Mapping[str, dynamodb.ITableV2], websocket_api: WebSocketGateway
    ) -> None:
        grant_table_read_write(function, tables["messages"], index_names=[constants.MESSAGES_INBOX_INDEX])
        grant_table_read_write(function, tables["connections"])
        grant_table_read_write(function, tables["rate_limits"])
        grant_table_read(function, tables["users"], index_names=[constants.USERS_BY_USERNAME_INDEX])
        grant_table_read(function, tables["graph"])  # blocks
        websocket_api.grant_manage_connections(function)
