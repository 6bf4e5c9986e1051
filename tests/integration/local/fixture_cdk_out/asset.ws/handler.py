"""Fixture WebSocket function: answers every frame through the @connections API and in its result (which
only two-way routes send back); `$connect` picks the first subprotocol offered, or refuses when asked to."""

import json

import boto3

EVENTS: list[dict] = []
_management = boto3.client("apigatewaymanagementapi")


def handler(event, context):
    EVENTS.append(event)
    route = event["requestContext"]["routeKey"]
    if route == "$connect":
        return connect(event)
    if route == "$disconnect":
        return {"statusCode": 200}
    connection_id = event["requestContext"]["connectionId"]
    reply = {
        "route": route,
        "body": event.get("body"),
        "authorizer": event["requestContext"].get("authorizer"),
        "connectionId": connection_id,
    }
    _management.post_to_connection(ConnectionId=connection_id, Data=json.dumps({**reply, "via": "@connections"}))
    return {"statusCode": 200, "body": json.dumps({**reply, "via": "route response"})}


def connect(event):
    refuse_with = (event.get("queryStringParameters") or {}).get("connect_status")
    if refuse_with:
        return {"statusCode": int(refuse_with)}
    offered = (event.get("headers") or {}).get("Sec-WebSocket-Protocol")
    if offered:
        return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": offered.split(",")[0].strip()}}
    return {"statusCode": 200}
