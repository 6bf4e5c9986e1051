"""Powertools' event handler keeps the request being resolved on the class, not on the resolver.

`ApiGatewayResolver.resolve` stores the event and the context as `BaseRouter.current_event` and
`BaseRouter.lambda_context`: class attributes, shared by every resolver of the process. On Lambda a process serves
one invocation at a time, so that is safe. The local cloud runs concurrent invocations in one process (one
execution environment each, see `local/lambda_runner.py`), so a handler reading `app.current_event` could read
another invocation's event: under load, a post created by one user came back with another user as its author.
Here each resolver is given the event and the context as attributes of its own, which shadow the class's; a
resolver belongs to one execution environment, which serves one invocation at a time.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

_applied = False


def give_each_resolver_its_own_event() -> None:
    """Idempotent; affects every API Gateway resolver of this process."""
    global _applied
    if _applied:
        return
    shared_resolve = ApiGatewayResolver.resolve

    @functools.wraps(shared_resolve)
    def resolve(self: ApiGatewayResolver, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        raw = event.raw_event if isinstance(event, BaseProxyEvent) else event
        self.current_event = self._to_proxy_event(dict(raw))
        self.lambda_context = context
        return shared_resolve(self, event, context)

    ApiGatewayResolver.resolve = resolve  # type: ignore[method-assign]
    _applied = True
