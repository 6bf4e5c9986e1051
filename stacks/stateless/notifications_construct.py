"""notifications: activity on the interactions, graph and posts tables' streams becomes notifications.
`on_activity` turns stream records (routed to its own FIFO queue by the tables' stream routers) into
notification intents on the FIFO queue; `deliver` stores
them and pushes them live over the WebSocket API; `handler` serves the JWT routes."""

from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks import constants
from stacks.function_factory import FunctionFactory
from stacks.stateful.notifications_construct import NOTIFY_TIMEOUT
from stacks.stateless.api_construct import HttpApiGateway, WebSocketGateway
from stacks.stateless.event_sources import consume_queue
from stacks.stateless.grants import grant_table_read, grant_table_read_write
from stacks.stateless.streams_construct import (
    COMMENT_MODIFIED,
    POST_PUBLISHED,
    PUBLISHED_POST_EDITED,
    PUBLISHED_POST_TAKEN_DOWN,
    StreamRoutes,
    created_or_removed,
)

CODE_DIR = f"{constants.FUNCTIONS_DIR}/{constants.NOTIFICATIONS}"
ROUTES = (
    (apigwv2.HttpMethod.GET, "/notifications"),
    (apigwv2.HttpMethod.GET, "/notifications/unread-count"),
    (apigwv2.HttpMethod.POST, "/notifications/read"),
)
DELIVER_BATCH_SIZE = 10


# Which stream records can make or take back a notification (their tables' routers send no others).
_WANTED: dict[str, list[dict[str, Any]]] = {
    "interactions": [
        *created_or_removed("like#", "comment#"),
        COMMENT_MODIFIED,  # a moderator's removal or restore: its notifications taken back or made again
    ],
    "graph": created_or_removed("follows#", "requested#"),
    # with @mentions in its caption; those an edit adds; taken back while a moderator has it removed (a restore
    # is one of POST_PUBLISHED's)
    "posts": [POST_PUBLISHED, PUBLISHED_POST_EDITED, PUBLISHED_POST_TAKEN_DOWN],
}


class Notifications(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        http_api: HttpApiGateway,
        websocket_api: WebSocketGateway,
        tables: Mapping[str, dynamodb.ITableV2],
        queue: sqs.IQueue,
        dead_letters: sqs.IQueue,
        cursor_secret: secretsmanager.ISecret,
        stream_routes: StreamRoutes,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = factory.create(self, context=constants.NOTIFICATIONS, code_dir=CODE_DIR)
        grant_table_read_write(self.function, tables["notifications"])
        grant_table_read(self.function, tables["users"])
        grant_table_read(self.function, tables["posts"])  # notifications about deleted posts are left out
        grant_table_read(self.function, tables["graph"])  # and those of someone in a block with the reader
        cursor_secret.grant_read(self.function)
        http_api.add_routes(self.function, ROUTES, public=False)

        activity_scope = Construct(self, "Activity")
        self.on_activity = factory.create(
            activity_scope, context=constants.NOTIFICATIONS, code_dir=CODE_DIR, handler="consumers.on_activity"
        )
        queue.grant_send_messages(self.on_activity)
        stream_routes.subscribe(self.on_activity, _WANTED, what="Notifications (activity)")

        deliver_scope = Construct(self, "Deliver")
        self.deliver = factory.create(
            deliver_scope,
            context=constants.NOTIFICATIONS,
            code_dir=CODE_DIR,
            handler="consumers.deliver",
            timeout=NOTIFY_TIMEOUT,
        )
        grant_table_read_write(self.deliver, tables["notifications"])
        grant_table_read_write(self.deliver, tables["connections"])  # a vanished connection is removed
        grant_table_read(self.deliver, tables["posts"])
        grant_table_read(self.deliver, tables["users"], index_names=[constants.USERS_BY_USERNAME_INDEX])
        grant_table_read(self.deliver, tables["graph"])  # blocks
        websocket_api.grant_manage_connections(self.deliver)
        consume_queue(
            deliver_scope, self.deliver, queue, dead_letters, what="Notifications", batch_size=DELIVER_BATCH_SIZE
        )
        self.functions = [self.function, self.on_activity, self.deliver]
