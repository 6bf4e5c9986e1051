"""API Gateway's 32 KB WebSocket frame quota, enforced where frames still exist: in uvicorn's protocol.

API Gateway takes a message of up to 128 KB in frames of up to 32 KB each: "If a larger message (or larger frame
size) is received, the connection is closed with code 1009." ASGI hands the gateway whole messages (uvicorn joins
the frames first), so `local/websocket_gateway.py` can check the message and never saw a frame: a single 33 KB
frame, which AWS refuses, was routed. This is uvicorn's websockets-sansio protocol (the one its `ws="auto"`
picks with `websockets` installed) with each data frame measured as it arrives (its payload, after any
per-message compression is undone: what a client asked to send). A frame over the quota closes the connection
with 1009, and the app gets `websocket.disconnect` (so `$disconnect` runs), as for a message over 128 KB.
"""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame

from local.websocket_gateway import CLOSE_MESSAGE_TOO_BIG, MAX_FRAME_BYTES


class FrameSizeLimitedWebSockets(WebSocketsSansIOProtocol):
    def handle_text(self, event: Frame) -> None:
        if not self._refused_as_too_big(event):
            super().handle_text(event)

    def handle_bytes(self, event: Frame) -> None:
        if not self._refused_as_too_big(event):
            super().handle_bytes(event)

    def handle_cont(self, event: Frame) -> None:
        if not self._refused_as_too_big(event):
            super().handle_cont(event)

    def _refused_as_too_big(self, event: Frame) -> bool:
        if len(event.data) <= MAX_FRAME_BYTES or self.close_sent:
            return False
        # What uvicorn does when the connection fails under it (its keepalive timeout, a parser error).
        reason = f"Frame size exceeds {MAX_FRAME_BYTES} bytes"
        self.conn.fail(CLOSE_MESSAGE_TOO_BIG, reason)
        self.queue.put_nowait({"type": "websocket.disconnect", "code": CLOSE_MESSAGE_TOO_BIG, "reason": reason})
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        self.transport.close()
        return True
