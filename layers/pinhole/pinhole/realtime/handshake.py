"""The WebSocket handshake's contract: where a client puts its access token, and the subprotocol
the server answers with. Browsers cannot set headers on a WebSocket, so besides the `token` query
parameter (API.md) a client may offer `Sec-WebSocket-Protocol: pinhole, <access token>`; the server
then selects `pinhole`, as the protocol requires it to select one of those offered."""

from collections.abc import Mapping

PROTOCOL = "pinhole"
PROTOCOL_HEADER = "sec-websocket-protocol"


def _offered_protocols(headers: Mapping[str, str] | None) -> list[str]:
    for name, value in (headers or {}).items():
        if name.lower() == PROTOCOL_HEADER:
            return [item.strip() for item in value.split(",") if item.strip()]
    return []


def token_from(query: Mapping[str, str] | None, headers: Mapping[str, str] | None) -> str | None:
    """The access token: the `token` query parameter, else an offered subprotocol besides ours."""
    token = (query or {}).get("token")
    if token:
        return token
    offered = [item for item in _offered_protocols(headers) if item != PROTOCOL]
    return offered[0] if offered else None


def selected_protocol(headers: Mapping[str, str] | None) -> str | None:
    """`pinhole` if the client offered it (the answer must carry it, or browsers drop the socket)."""
    return PROTOCOL if PROTOCOL in _offered_protocols(headers) else None
