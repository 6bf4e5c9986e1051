"""Fixture WebSocket function: echoes frames back through the @connections API."""

import json

import boto3

EVENTS: list[dict] = []
_management = boto3.client("apigatewaymanagementapi")


def handler(event, context):
    EVENTS.append(event)
    route = event["requestContext"]["routeKey"]
    if route in ("$connect", "$disconnect"):
        return {"statusCode": 200}
    reply = {"route": route, "body": event.get("body"), "authorizer": event["requestContext"].get("authorizer")}
    _management.post_to_connection(
        ConnectionId=event["requestContext"]["connectionId"], Data=json.dumps(reply).encode()
    )
    return {"statusCode": 200}
