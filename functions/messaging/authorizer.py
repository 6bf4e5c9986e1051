"""Lambda REQUEST authorizer of the WebSocket API's `$connect`: the access token (query parameter `token`, or offered as
a subprotocol) must be a valid Cognito access token of this app, of a user no moderator has suspended (the token may
outlive the suspension by its 15 minutes) and who has not deleted their account, issued since they last signed out
everywhere, of a session not logged out. The user's id and username ride on the connection as the authorizer context
of every later frame."""

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponseWebSocket,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.auth.tokens import verify_access_token
from pinhole.realtime.handshake import token_from
from pinhole.shared.errors import Unauthorized
from pinhole.shared.observability import logger
from pinhole.users.dal import ProfileRepository

UNAUTHORIZED = "Unauthorized"  # the exact message API Gateway turns into a 401 answer
_profiles = ProfileRepository()


@logger.inject_lambda_context
def handler(event: dict, context: LambdaContext) -> dict:
    request = APIGatewayAuthorizerRequestEvent(event)
    token = token_from(request.query_string_parameters, request.headers)
    if not token:
        raise Exception(UNAUTHORIZED)  # API Gateway answers this exact message with 401
    try:
        verified = verify_access_token(token)
    except Unauthorized as error:
        logger.info("Connection refused", extra={"reason": error.message})
        raise Exception(UNAUTHORIZED) from None
    caller, standing = verified.caller, _profiles.token_standing(verified.caller.user_id)
    refused = (
        "suspended"
        if standing.suspended
        else "deactivated"  # deleted: nobody to talk to (reactivating is the HTTP API's, with this token)
        if standing.deactivated
        else "signed out"
        if standing.signed_out(verified.issued_at, verified.origin_jti)
        else None
    )
    if refused:
        logger.info("Connection refused", extra={"reason": refused})
        raise Exception(UNAUTHORIZED)
    policy = APIGatewayAuthorizerResponseWebSocket.from_route_arn(
        request.method_arn,
        principal_id=caller.user_id,
        context={"username": caller.username, "session": verified.origin_jti or ""},
    )
    policy.allow_all_routes()
    return policy.asdict()
