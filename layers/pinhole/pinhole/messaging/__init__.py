"""Direct messages: one conversation per pair of users, sent over HTTP or the WebSocket API,
persisted before they are acknowledged, and pushed to every open connection of both sides."""
