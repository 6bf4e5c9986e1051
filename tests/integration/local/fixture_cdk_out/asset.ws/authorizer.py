"""Fixture $connect REQUEST authorizer. The token comes as `?token=` or, from browsers, which cannot set
headers, as the second `Sec-WebSocket-Protocol` value. `good` is let in, `denied` gets an explicit Deny, and
anything else is refused the documented way: raising "Unauthorized"."""

EVENTS: list[dict] = []


def handler(event, context):
    EVENTS.append(event)
    token = token_of(event)
    if token not in ("good", "denied"):
        raise Exception("Unauthorized")
    return {
        "principalId": "user-1",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow" if token == "good" else "Deny",
                    "Resource": event["methodArn"],
                }
            ],
        },
        "context": {"username": "alice"},
    }


def token_of(event):
    offered = [value.strip() for value in (event.get("headers") or {}).get("Sec-WebSocket-Protocol", "").split(",")]
    return (event.get("queryStringParameters") or {}).get("token") or (offered[1] if len(offered) > 1 else None)
