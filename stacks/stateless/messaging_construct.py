"""messaging: the WebSocket `$default` route (a shell; DMs, $connect and its authorizer come later)."""

from constructs import Construct

from stacks import constants
from stacks.function_factory import FunctionFactory
from stacks.stateless.api_construct import WebSocketGateway


class Messaging(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, factory: FunctionFactory, websocket_api: WebSocketGateway
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = factory.create(
            self, context=constants.MESSAGING, code_dir=f"{constants.FUNCTIONS_DIR}/{constants.MESSAGING}"
        )
        websocket_api.set_default_route(self.function)
