"""Fixture $connect REQUEST authorizer: allows ?token=good."""


def handler(event, context):
    allowed = (event.get("queryStringParameters") or {}).get("token") == "good"
    return {
        "principalId": "user-1",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow" if allowed else "Deny",
                    "Resource": event["methodArn"],
                }
            ],
        },
        "context": {"username": "alice"},
    }
