"""The local cloud's mail catcher: every message Cognito would e-mail (verification and password-reset codes),
kept in memory and served at `/_local/mail` on the one port. Local only: the deployed stacks have nothing like
it (Cognito sends real e-mail there).

    GET    /_local/mail[?to=<address>][&username=<name>]   {"items": [Mail...]}, oldest first
    DELETE /_local/mail                                     204, the mailbox emptied
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from local.errors import error_response

MAIL_PREFIX = "/_local/mail"


@dataclass(frozen=True)
class Mail:
    to: str
    username: str
    subject: str
    body: str
    code: str
    kind: str  # verify_email | reset_password
    sent_at: float


class Mailbox:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[Mail] = []

    def send(self, mail: Mail) -> None:
        with self._lock:
            self._messages.append(mail)

    def messages(self, to: str | None = None, username: str | None = None) -> list[Mail]:
        with self._lock:
            return [
                mail
                for mail in self._messages
                if (to is None or mail.to == to) and (username is None or mail.username == username)
            ]

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()


MAILBOX = Mailbox()


class MailboxEndpoint:
    def __init__(self, mailbox: Mailbox = MAILBOX) -> None:
        self.mailbox = mailbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = self._respond(request)
        await response(scope, receive, send)

    def _respond(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.mailbox.clear()
            return Response(status_code=204)
        if request.method != "GET":
            return error_response(
                405, "method_not_allowed", "The mailbox is read or emptied.", {"Allow": "GET, DELETE"}
            )
        found = self.mailbox.messages(request.query_params.get("to"), request.query_params.get("username"))
        body = json.dumps({"items": [asdict(mail) for mail in found]})
        return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})
