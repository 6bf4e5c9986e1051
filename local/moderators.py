"""Making a tester a moderator in the local cloud: the Cognito group `moderators` the template creates, its
membership managed here because moto has no console. Local only: on AWS an administrator runs
`aws cognito-idp admin-add-user-to-group` (README, "Moderators").

    POST   /_local/moderators             {"username": "..."}   204: a member from their next log-in (the
                                                                 group rides in the access token)
    DELETE /_local/moderators/<username>                         204
    GET    /_local/moderators                                    {"items": ["<username>", ...]}"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from botocore.exceptions import ClientError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from local.errors import error_response

MODERATORS_PREFIX = "/_local/moderators"
MODERATORS_GROUP = "moderators"  # the template's AWS::Cognito::UserPoolGroup (stacks/stateful/auth_construct.py)


class ModeratorsEndpoint:
    def __init__(self, cognito: Any, user_pool_id: str) -> None:
        self.cognito = cognito
        self.user_pool_id = user_pool_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        rest = scope["path"].removeprefix(MODERATORS_PREFIX).strip("/")
        body = await request.body()
        response = await asyncio.to_thread(self._respond, request.method, rest, body)
        await response(scope, receive, send)

    def _respond(self, method: str, rest: str, body: bytes) -> Response:
        try:
            if method == "GET" and not rest:
                members = self.cognito.list_users_in_group(UserPoolId=self.user_pool_id, GroupName=MODERATORS_GROUP)
                names = sorted(user["Username"] for user in members["Users"])
                return Response(json.dumps({"items": names}), media_type="application/json")
            if method == "POST" and not rest:
                username = _username(body)
                self.cognito.admin_add_user_to_group(
                    UserPoolId=self.user_pool_id, Username=username, GroupName=MODERATORS_GROUP
                )
                return Response(status_code=204)
            if method == "DELETE" and rest:
                self.cognito.admin_remove_user_from_group(
                    UserPoolId=self.user_pool_id, Username=rest, GroupName=MODERATORS_GROUP
                )
                return Response(status_code=204)
        except ValueError as problem:
            return error_response(422, "validation_error", str(problem))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "UserNotFoundException":
                return error_response(404, "not_found", "No such user.")
            raise
        allowed = "DELETE" if rest else "GET, POST"
        return error_response(405, "method_not_allowed", f"This path answers {allowed}.", {"Allow": allowed})


def _username(body: bytes) -> str:
    try:
        username = json.loads(body).get("username")
    except (ValueError, AttributeError):
        username = None
    if not isinstance(username, str) or not username:
        raise ValueError('expected {"username": "..."}')
    return username.lower()
