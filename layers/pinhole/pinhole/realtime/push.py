"""Frames to every open connection of some users, through `@connections` (POST). A connection that
is gone (410 GoneException: closed without `$disconnect` reaching us) is forgotten on the spot."""

from collections.abc import Iterable
from typing import Any

from botocore.config import Config
from pydantic import BaseModel

from pinhole.realtime.dal import ConnectionRepository
from pinhole.shared import aws_clients
from pinhole.shared.observability import logger
from pinhole.shared.settings import get_settings

_settings = get_settings()
# A push is best-effort and the recipient finds the message in its history anyway: fail fast.
_CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 2, "mode": "standard"})


class Pusher:
    def __init__(self, connections: ConnectionRepository | None = None, client: Any = None) -> None:
        self.connections = connections or ConnectionRepository()
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:  # made on first use: most invocations of most functions never push
            self._client = aws_clients.client(
                "apigatewaymanagementapi", config=_CLIENT_CONFIG, endpoint_url=_settings.websocket_callback_url
            )
        return self._client

    def send(self, connection_id: str, frame: BaseModel) -> bool:
        """One frame to one connection; False if it is gone."""
        try:
            self.client.post_to_connection(ConnectionId=connection_id, Data=frame.model_dump_json().encode())
        except self.client.exceptions.GoneException:
            return False
        return True

    def push(self, user_ids: Iterable[str], frame: BaseModel, skip_connection: str | None = None) -> int:
        """The frame to every open connection of each user (but `skip_connection`, the sender's own
        one, answered directly); how many connections got it."""
        delivered = 0
        for user_id in dict.fromkeys(user_ids):
            for connection_id in self.connections.of_user(user_id):
                if connection_id == skip_connection:
                    continue
                if self.send(connection_id, frame):
                    delivered += 1
                elif self.connections.remove_gone(user_id, connection_id):
                    logger.info("Connection gone, forgotten", extra={"connection_id": connection_id})
                else:
                    logger.info("Connection not open yet: kept", extra={"connection_id": connection_id})
        return delivered

    def disconnect_all(self, user_id: str, session: str | None = None) -> int:
        """Closes every open connection of the user (a sign-out everywhere), or those of one log-in (`session`, its
        `origin_jti`: a log-out); how many were open."""
        closed = 0
        for connection_id in self.connections.of_user(user_id, session):
            try:
                self.client.delete_connection(ConnectionId=connection_id)
                closed += 1
            except self.client.exceptions.GoneException:
                pass
            self.connections.remove(user_id, connection_id)
        return closed
