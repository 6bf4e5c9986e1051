"""Open WebSocket connections, per user. PynamoDB objects never leave this module.

    user_id = <user>  connection_id = <API Gateway connection id>  connected_at, expires_at (TTL)

API Gateway closes a connection after two hours at most, and `$disconnect` is best-effort, so every
connection expires by TTL shortly after; a push that finds a connection gone removes it at once, unless it may
still be connecting (CONNECTING_FOR)."""

from datetime import timedelta

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError
from pynamodb.models import Model

from pinhole.shared.clock import to_iso, utc_now
from pinhole.shared.settings import get_settings

_settings = get_settings()
MAX_CONNECTION_S = 2 * 60 * 60  # API Gateway's maximum connection duration
EXPIRY_MARGIN_S = 5 * 60
CONNECTING_FOR = timedelta(seconds=30)
"""A connection is recorded by `$connect`, and API Gateway opens it only once `$connect` has answered (it waits 29 s
at most): until then a post to it is refused as gone. Forgetting it then would leave an open socket nobody pushes to."""


class ConnectionModel(Model):
    class Meta:
        table_name = _settings.connections_table_name
        region = _settings.region
        billing_mode = "PAY_PER_REQUEST"

    user_id = UnicodeAttribute(hash_key=True)
    connection_id = UnicodeAttribute(range_key=True)
    connected_at = UnicodeAttribute()
    expires_at = NumberAttribute()
    session = UnicodeAttribute(null=True)  # the access token's `origin_jti`: its log-in, which a log-out ends


class ConnectionRepository:
    def add(self, user_id: str, connection_id: str, session: str | None = None) -> None:
        now = utc_now()
        ConnectionModel(
            user_id=user_id,
            connection_id=connection_id,
            connected_at=to_iso(now),
            expires_at=int(now.timestamp()) + MAX_CONNECTION_S + EXPIRY_MARGIN_S,
            session=session or None,
        ).save()

    def remove(self, user_id: str, connection_id: str) -> None:
        ConnectionModel(user_id=user_id, connection_id=connection_id).delete()

    def remove_gone(self, user_id: str, connection_id: str) -> bool:
        """Forgets a connection a post found gone, unless it was recorded so recently that it may still be
        connecting (CONNECTING_FOR); False if it was kept."""
        try:
            ConnectionModel(user_id=user_id, connection_id=connection_id).delete(
                condition=ConnectionModel.connected_at.does_not_exist()  # forgotten already: nothing to do
                | (ConnectionModel.connected_at < to_iso(utc_now() - CONNECTING_FOR))
            )
        except DeleteError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def of_user(self, user_id: str, session: str | None = None) -> list[str]:
        """The user's open connections (strongly consistent: one that just connected is included); with `session`,
        those opened with a token of that log-in only."""
        now = int(utc_now().timestamp())
        return [
            item.connection_id
            for item in ConnectionModel.query(user_id, consistent_read=True)
            if item.expires_at > now  # TTL deletion lags; an expired one is surely closed
            and (session is None or item.session == session)
        ]
