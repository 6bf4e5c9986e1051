"""A stand-in for API Gateway's `@connections` API, for tests that check what was pushed to whom
(moto does not model open WebSocket connections)."""

import json
from collections import defaultdict
from typing import Any


class GoneException(Exception):
    pass


class FakeConnectionsApi:
    """Records every frame posted per connection; ids in `gone` answer GoneException, as a
    connection closed without `$disconnect` does on AWS."""

    class exceptions:
        GoneException = GoneException

    def __init__(self) -> None:
        self.frames: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.gone: set[str] = set()
        self.closed: list[str] = []

    def delete_connection(self, ConnectionId: str) -> None:
        if ConnectionId in self.gone:
            raise GoneException(ConnectionId)
        self.closed.append(ConnectionId)

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> None:
        if ConnectionId in self.gone:
            raise GoneException(ConnectionId)
        self.frames[ConnectionId].append(json.loads(Data))

    def of_type(self, connection_id: str, frame_type: str) -> list[dict[str, Any]]:
        return [frame for frame in self.frames[connection_id] if frame.get("type") == frame_type]
