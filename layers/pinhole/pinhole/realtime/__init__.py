"""Live delivery to connected clients: the registry of open WebSocket connections per user, and the
push of JSON frames to them through API Gateway's `@connections` management API."""
