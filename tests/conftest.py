"""Settings every test process shares: the domain package reads its configuration at import, and no
test may ever reach AWS (fake credentials, a region, and moto or the local cloud behind every client)."""

import os

# moto must be imported before any boto3 client exists: it hooks botocore's handler list at import,
# and a client created earlier (the domain creates its clients at module import) is never mocked.
import moto  # noqa: F401

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "Pinhole",
        "POWERTOOLS_SERVICE_NAME": "tests",
        "POWERTOOLS_DEV": "false",
    }
)
os.environ.setdefault("USERS_TABLE_NAME", "pinhole-users")
os.environ.setdefault("USER_POOL_ID", "us-east-1_unset")
os.environ.setdefault("USER_POOL_CLIENT_ID", "unset")
os.environ.setdefault("POSTS_TABLE_NAME", "pinhole-posts")
os.environ.setdefault("GRAPH_TABLE_NAME", "pinhole-graph")
os.environ.setdefault("INTERACTIONS_TABLE_NAME", "pinhole-interactions")
os.environ.setdefault("FEEDS_TABLE_NAME", "pinhole-feeds")
os.environ.setdefault("IDEMPOTENCY_TABLE_NAME", "pinhole-idempotency")
os.environ.setdefault("FANOUT_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/pinhole-fanout")
os.environ.setdefault("UPLOADS_BUCKET_NAME", "pinhole-uploads")
os.environ.setdefault("MEDIA_BUCKET_NAME", "pinhole-media")
os.environ.setdefault("MESSAGE_MEDIA_BUCKET_NAME", "pinhole-message-media")
os.environ.setdefault("MEDIA_BASE_URL", "https://media.example.com")
os.environ.setdefault("MEDIA_DISTRIBUTION_ID", "EDFDVBD6EXAMPLE")
os.environ.setdefault(
    "MEDIA_INVALIDATIONS_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/pinhole-media-invalidations"
)
os.environ.setdefault("CURSOR_SECRET_ARN", "pinhole-cursor-secret")
os.environ.setdefault("MESSAGES_TABLE_NAME", "pinhole-messages")
os.environ.setdefault("CONNECTIONS_TABLE_NAME", "pinhole-connections")
os.environ.setdefault("NOTIFICATIONS_TABLE_NAME", "pinhole-notifications")
os.environ.setdefault(
    "NOTIFICATIONS_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/pinhole-notifications.fifo"
)
os.environ.setdefault("TRANSCODE_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/pinhole-transcode")
os.environ.setdefault("RATE_LIMITS_TABLE_NAME", "pinhole-rate-limits")
os.environ.setdefault("SEARCH_TABLE_NAME", "pinhole-search")
os.environ.setdefault("MODERATION_TABLE_NAME", "pinhole-moderation")
os.environ.setdefault("PRIVACY_TABLE_NAME", "pinhole-privacy")
os.environ.setdefault("PURGE_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/pinhole-purge")
os.environ.setdefault("EXPORT_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/pinhole-export")
# A stream router's own variable (functions/streams/handler.py reads it at import): no routes by default,
# tests give each router the template's (tests/support/event_sources.py).
os.environ.setdefault("STREAM_ROUTES", '{"table": "unset", "overflow_bucket": "unset", "routes": []}')
os.environ.setdefault("WEBSOCKET_CALLBACK_URL", "https://abcdef1234.execute-api.us-east-1.amazonaws.com/prod")

# Property tests (hypothesis) run the same examples on every run of `make test`, with no per-example
# deadline: CI stays green or red for a reason, not for a seed or a busy core. PINHOLE_HYPOTHESIS=explore
# draws new examples each run, to search further by hand.
from hypothesis import settings

settings.register_profile("repeatable", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile("explore" if os.environ.get("PINHOLE_HYPOTHESIS") == "explore" else "repeatable")

# Local IAM enforcement (local/iam) hooks botocore once per process, before any test's monkeypatch wraps
# the same method (tests/support/faults.py): undoing such a patch must leave enforcement in place. Calls
# made with no identity (every test's own setup) are not checked.
from local.iam.authorizer import install as install_local_iam_enforcement  # noqa: E402

install_local_iam_enforcement()
