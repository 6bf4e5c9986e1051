"""Two execution environments of the local cloud resolve requests at the same time in one process: each handler
must see its own request's caller, as it would on Lambda where each has a process to itself."""

import copy
import json
import threading
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from local.resolver_isolation import give_each_resolver_its_own_event

EVENT = json.loads((Path(__file__).parent / "events" / "apiGatewayProxyV2Event.json").read_text())
WAIT_S = 10


def request_from(sub: str) -> dict[str, Any]:
    event = copy.deepcopy(EVENT)
    event.update(routeKey="GET /whoami", rawPath="/whoami", rawQueryString="", body=None, isBase64Encoded=False)
    event["requestContext"]["http"].update(method="GET", path="/whoami")
    event["requestContext"]["authorizer"]["jwt"]["claims"] = {"sub": sub, "username": sub}
    return event


def environment(paused_inside: threading.Event | None = None, resume: threading.Event | None = None) -> Any:
    """One imported copy of a handler module: its own resolver, answering with the caller it sees."""
    app = APIGatewayHttpResolver()

    @app.get("/whoami")
    def whoami() -> dict[str, str]:
        if paused_inside is not None and resume is not None:
            paused_inside.set()
            resume.wait(WAIT_S)
        return {"caller": app.current_event.request_context.authorizer.jwt_claim["sub"]}

    return app


def test_concurrent_invocations_each_see_their_own_caller() -> None:
    # Given two environments of one function in one process, as the local cloud runs them
    give_each_resolver_its_own_event()
    inside, resume = threading.Event(), threading.Event()
    first, second = environment(paused_inside=inside, resume=resume), environment()
    answers: dict[str, Any] = {}

    # When ann's invocation is inside its route while ben's invocation runs from start to end
    ann = threading.Thread(target=lambda: answers.update(ann=first.resolve(request_from("ann"), None)))
    ann.start()
    assert inside.wait(WAIT_S)
    answers["ben"] = second.resolve(request_from("ben"), None)
    resume.set()
    ann.join(WAIT_S)

    # Then each invocation answered for its own caller
    assert json.loads(answers["ann"]["body"]) == {"caller": "ann"}
    assert json.loads(answers["ben"]["body"]) == {"caller": "ben"}
