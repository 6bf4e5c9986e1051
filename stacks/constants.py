"""Every construct id, output key and context key of the CDK app, named once.

The local cloud and the infrastructure tests find resources by these names in the synthesized
templates, so renaming one here is a contract change.
"""

from typing import Final

# stacks
STATEFUL_STACK_ID: Final = "PinholeStateful"
STATELESS_STACK_ID: Final = "PinholeStateless"

# contexts (the same word as functions/<context>, layers/pinhole/pinhole/<context>, tests)
AUTH: Final = "auth"
USERS: Final = "users"
META: Final = "meta"
MESSAGING: Final = "messaging"
MEDIA: Final = "media"
UPLOAD: Final = "upload"
RESIZE: Final = "resize"
TRANSCODE: Final = "transcode"
SOCIAL: Final = "social"
FEED_READ: Final = "feed_read"
FEED_FANOUT: Final = "feed_fanout"
FEED_SIGNALS: Final = "feed_signals"
NOTIFICATIONS: Final = "notifications"
SEARCH: Final = "search"
MODERATION: Final = "moderation"
PUSH: Final = "push"
PRIVACY: Final = "privacy"
WEB: Final = "web"
STREAMS: Final = "streams"

# stateful constructs
AUTH_IDENTITY_CONSTRUCT_ID: Final = "AuthIdentity"
USER_POOL_ID: Final = "UserPool"
USER_POOL_CLIENT_ID: Final = "UserPoolClient"
MODERATORS_GROUP_ID: Final = "ModeratorsGroup"  # the Cognito group `moderators` (pinhole.shared.caller)
USERS_DATA_CONSTRUCT_ID: Final = "UsersData"
USERS_TABLE_ID: Final = "UsersTable"
USERS_BY_USERNAME_INDEX: Final = "username-index"
MEDIA_STORAGE_CONSTRUCT_ID: Final = "MediaStorage"
ACCESS_LOGS_BUCKET_ID: Final = "AccessLogsBucket"
UPLOADS_BUCKET_ID: Final = "UploadsBucket"
MEDIA_BUCKET_ID: Final = "MediaBucket"
MESSAGE_MEDIA_BUCKET_ID: Final = "MessageMediaBucket"
UPLOAD_EVENTS_QUEUE_ID: Final = "UploadEventsQueue"
UPLOAD_EVENTS_DLQ_ID: Final = "UploadEventsDeadLetterQueue"
TRANSCODE_QUEUE_ID: Final = "TranscodeQueue"
TRANSCODE_DLQ_ID: Final = "TranscodeDeadLetterQueue"
TRANSCODE_UNSETTLED_QUEUE_ID: Final = "TranscodeUnsettledQueue"
UPLOAD_KEY_PREFIX: Final = "posts/"
MESSAGE_UPLOAD_KEY_PREFIX: Final = "messages/"  # pinhole.messaging.media: photo messages' originals
MESSAGE_RENDITION_KEY_PREFIX: Final = "conversations/"  # their renditions, in the message media bucket
CLOUDFRONT_REGION: Final = "us-east-1"  # where CloudFront reads web ACLs and log delivery sources from
CLOUDFRONT_LOGS_PREFIX: Final = "cloudfront/"  # in the access-logs bucket: one folder per distribution below it
AVATAR_KEY_PREFIX: Final = "avatars/"  # pinhole.upload.keys: avatars/<user>/<avatar>, originals and renditions
POSTS_DATA_CONSTRUCT_ID: Final = "PostsData"
POSTS_TABLE_ID: Final = "PostsTable"
POSTS_BY_AUTHOR_INDEX: Final = "published-by-author-index"
POSTS_PENDING_INDEX: Final = "pending-index"
GRAPH_DATA_CONSTRUCT_ID: Final = "GraphData"
GRAPH_TABLE_ID: Final = "GraphTable"
GRAPH_INVERSE_INDEX: Final = "inverse-index"
SOCIAL_DATA_CONSTRUCT_ID: Final = "SocialData"
INTERACTIONS_TABLE_ID: Final = "InteractionsTable"
INTERACTIONS_SAVES_BY_POST_INDEX: Final = "saves-by-post-index"
FEED_DATA_CONSTRUCT_ID: Final = "FeedData"
FEEDS_TABLE_ID: Final = "FeedsTable"
FANOUT_QUEUE_ID: Final = "FanoutQueue"
FANOUT_DLQ_ID: Final = "FanoutDeadLetterQueue"
IDEMPOTENCY_DATA_CONSTRUCT_ID: Final = "IdempotencyData"
IDEMPOTENCY_TABLE_ID: Final = "IdempotencyTable"
API_SECRETS_CONSTRUCT_ID: Final = "ApiSecrets"
CURSOR_SECRET_ID: Final = "CursorSecret"  # noqa: S105 - a construct id
MESSAGING_DATA_CONSTRUCT_ID: Final = "MessagingData"
MESSAGES_TABLE_ID: Final = "MessagesTable"
MESSAGES_INBOX_INDEX: Final = "inbox-index"
MESSAGES_PENDING_INDEX: Final = "pending-index"
CONNECTIONS_TABLE_ID: Final = "ConnectionsTable"
NOTIFICATIONS_DATA_CONSTRUCT_ID: Final = "NotificationsData"
NOTIFICATIONS_TABLE_ID: Final = "NotificationsTable"
NOTIFICATIONS_QUEUE_ID: Final = "NotificationsQueue"
NOTIFICATIONS_DLQ_ID: Final = "NotificationsDeadLetterQueue"
PUSH_DATA_CONSTRUCT_ID: Final = "PushData"
PUSH_QUEUE_ID: Final = "PushQueue"
PUSH_DLQ_ID: Final = "PushDeadLetterQueue"
PUSH_PLATFORMS_CONSTRUCT_ID: Final = "PushPlatforms"  # one SNS platform application per platform with credentials
RATE_LIMITS_DATA_CONSTRUCT_ID: Final = "RateLimitsData"
RATE_LIMITS_TABLE_ID: Final = "RateLimitsTable"
SEARCH_DATA_CONSTRUCT_ID: Final = "SearchData"
SEARCH_TABLE_ID: Final = "SearchTable"
MODERATION_DATA_CONSTRUCT_ID: Final = "ModerationData"
MODERATION_TABLE_ID: Final = "ModerationTable"
MODERATION_QUEUE_INDEX: Final = "queue-index"
MODERATION_BY_REPORTER_INDEX: Final = "by-reporter-index"
PRIVACY_DATA_CONSTRUCT_ID: Final = "PrivacyData"
PRIVACY_TABLE_ID: Final = "PrivacyTable"
PURGE_QUEUE_ID: Final = "PurgeQueue"
PURGE_DLQ_ID: Final = "PurgeDeadLetterQueue"
EXPORT_QUEUE_ID: Final = "ExportQueue"
EXPORT_DLQ_ID: Final = "ExportDeadLetterQueue"
EXPORT_KEY_PREFIX: Final = "exports/"  # pinhole.privacy.export: exports/<user>/<requested at>.zip, uploads bucket
STREAM_OVERFLOW_CONSTRUCT_ID: Final = "StreamOverflow"
STREAM_OVERFLOW_BUCKET_ID: Final = "OverflowBucket"
MEDIA_INVALIDATIONS_CONSTRUCT_ID: Final = "MediaInvalidations"
MEDIA_INVALIDATIONS_QUEUE_ID: Final = "MediaInvalidationsQueue"
MEDIA_INVALIDATIONS_DLQ_ID: Final = "MediaInvalidationsDeadLetterQueue"

# stateless constructs
DOMAIN_LAYER_ID: Final = "PinholeDomainLayer"
HTTP_API_CONSTRUCT_ID: Final = "HttpApiGateway"
HTTP_API_ID: Final = "HttpApi"
HTTP_API_ACCESS_LOGS_ID: Final = "HttpApiAccessLogs"
JWT_AUTHORIZER_ID: Final = "CognitoJwtAuthorizer"
WEBSOCKET_API_CONSTRUCT_ID: Final = "WebSocketGateway"
WEBSOCKET_API_ID: Final = "WebSocketApi"
WEBSOCKET_STAGE_ID: Final = "WebSocketStage"
WEBSOCKET_STAGE_NAME: Final = "prod"
WEBSOCKET_AUTHORIZER_ID: Final = "ConnectAuthorizer"
WEBSOCKET_ACCESS_LOGS_ID: Final = "WebSocketAccessLogs"
API_GATEWAY_LOGGING_ROLE_ID: Final = "ApiGatewayLoggingRole"
API_GATEWAY_ACCOUNT_ID: Final = "ApiGatewayAccount"
AUTH_API_CONSTRUCT_ID: Final = "AuthApi"
USERS_API_CONSTRUCT_ID: Final = "UsersApi"
META_API_CONSTRUCT_ID: Final = "MetaApi"
MESSAGING_CONSTRUCT_ID: Final = "Messaging"
NOTIFICATIONS_CONSTRUCT_ID: Final = "Notifications"
PUSH_CONSTRUCT_ID: Final = "Push"
SEARCH_CONSTRUCT_ID: Final = "Search"
MODERATION_API_CONSTRUCT_ID: Final = "ModerationApi"
UPLOAD_API_CONSTRUCT_ID: Final = "UploadApi"
RESIZE_CONSTRUCT_ID: Final = "Resize"
TRANSCODE_CONSTRUCT_ID: Final = "Transcode"
SOCIAL_API_CONSTRUCT_ID: Final = "SocialApi"
FEED_READ_CONSTRUCT_ID: Final = "FeedReadApi"
FEED_FANOUT_CONSTRUCT_ID: Final = "FeedFanout"
FEED_SIGNALS_CONSTRUCT_ID: Final = "FeedSignals"
PRIVACY_CONSTRUCT_ID: Final = "Privacy"
IMAGING_LAYER_ID: Final = "PinholeImagingLayer"
HEIF_LAYER_ID: Final = "PinholeHeifLayer"
VIDEO_LAYER_ID: Final = "PinholeVideoLayer"
AUTH_LAYER_ID: Final = "PinholeAuthLayer"
MEDIA_CDN_CONSTRUCT_ID: Final = "MediaCdn"
STREAM_ROUTES_CONSTRUCT_ID: Final = "StreamRoutes"
MEDIA_DISTRIBUTION_ID: Final = "MediaDistribution"
MEDIA_HEADERS_POLICY_ID: Final = "MediaSecurityHeaders"
WEB_APP_CONSTRUCT_ID: Final = "WebApp"
WEB_BUCKET_ID: Final = "WebBucket"
WEB_DISTRIBUTION_ID: Final = "WebDistribution"
WEB_HEADERS_POLICY_ID: Final = "WebSecurityHeaders"
WEB_ASSETS_DEPLOYMENT_ID: Final = "AssetsDeployment"
WEB_PAGES_DEPLOYMENT_ID: Final = "PagesDeployment"
WEB_CONFIG_FILE: Final = "config.json"
WEB_UPLOADS_CORS_ID: Final = "UploadsCors"  # WebApp/UploadsCors: the uploads bucket's CORS, set after the app exists
MEDIA_ACCESS_LOGS_ID: Final = "AccessLogs"  # MediaCdn/AccessLogs: CloudFront standard logging v2 to S3
EDGE_FIREWALL_CONSTRUCT_ID: Final = "EdgeFirewall"  # the WAF web ACL of every distribution (context `waf`)
ALARM_TOPIC_CONSTRUCT_ID: Final = "AlarmTopic"  # where every alarm of the stack goes (context `alarm_email`)
FUNCTION_ID: Final = "Function"  # inside each context construct: <Context>Api/Function

# outputs of the stateless stack (API.md "Endpoints"; .local/outputs.json has the same keys)
OUTPUT_HTTP_API_URL: Final = "HttpApiUrl"
OUTPUT_WEBSOCKET_URL: Final = "WebSocketUrl"
OUTPUT_MEDIA_BASE_URL: Final = "MediaBaseUrl"
OUTPUT_USER_POOL_ID: Final = "UserPoolId"
OUTPUT_USER_POOL_CLIENT_ID: Final = "UserPoolClientId"
OUTPUT_REGION: Final = "Region"
OUTPUT_WEB_APP_URL: Final = "WebAppUrl"
OUTPUT_KEYS: Final = (
    OUTPUT_HTTP_API_URL,
    OUTPUT_WEBSOCKET_URL,
    OUTPUT_MEDIA_BASE_URL,
    OUTPUT_USER_POOL_ID,
    OUTPUT_USER_POOL_CLIENT_ID,
    OUTPUT_REGION,
    OUTPUT_WEB_APP_URL,
)
# What Pinhole Web reads from its config.json (the local cloud serves the same keys at /app/config.json)
WEB_CONFIG_KEYS: Final = (
    OUTPUT_HTTP_API_URL,
    OUTPUT_WEBSOCKET_URL,
    OUTPUT_MEDIA_BASE_URL,
    OUTPUT_USER_POOL_CLIENT_ID,
    OUTPUT_REGION,
)

# function environment (pinhole.shared.settings reads these names)
ENV_USERS_TABLE_NAME: Final = "USERS_TABLE_NAME"
ENV_USER_POOL_ID: Final = "USER_POOL_ID"
ENV_USER_POOL_CLIENT_ID: Final = "USER_POOL_CLIENT_ID"
ENV_POSTS_TABLE_NAME: Final = "POSTS_TABLE_NAME"
ENV_GRAPH_TABLE_NAME: Final = "GRAPH_TABLE_NAME"
ENV_INTERACTIONS_TABLE_NAME: Final = "INTERACTIONS_TABLE_NAME"
ENV_FEEDS_TABLE_NAME: Final = "FEEDS_TABLE_NAME"
ENV_FANOUT_QUEUE_URL: Final = "FANOUT_QUEUE_URL"
ENV_IDEMPOTENCY_TABLE_NAME: Final = "IDEMPOTENCY_TABLE_NAME"
ENV_CELEBRITY_THRESHOLD: Final = "CELEBRITY_THRESHOLD"
ENV_FEED_CAP: Final = "FEED_CAP"
ENV_FEED_RANKING: Final = "FEED_RANKING"
ENV_UPLOADS_BUCKET_NAME: Final = "UPLOADS_BUCKET_NAME"
ENV_MEDIA_BUCKET_NAME: Final = "MEDIA_BUCKET_NAME"
ENV_MESSAGE_MEDIA_BUCKET_NAME: Final = "MESSAGE_MEDIA_BUCKET_NAME"
ENV_MEDIA_BASE_URL: Final = "MEDIA_BASE_URL"
ENV_MEDIA_DISTRIBUTION_ID: Final = "MEDIA_DISTRIBUTION_ID"
ENV_MEDIA_INVALIDATIONS_QUEUE_URL: Final = "MEDIA_INVALIDATIONS_QUEUE_URL"
ENV_CURSOR_SECRET_ARN: Final = "CURSOR_SECRET_ARN"  # noqa: S105 - a variable name
ENV_MESSAGES_TABLE_NAME: Final = "MESSAGES_TABLE_NAME"
ENV_CONNECTIONS_TABLE_NAME: Final = "CONNECTIONS_TABLE_NAME"
ENV_NOTIFICATIONS_TABLE_NAME: Final = "NOTIFICATIONS_TABLE_NAME"
ENV_NOTIFICATIONS_QUEUE_URL: Final = "NOTIFICATIONS_QUEUE_URL"
ENV_TRANSCODE_QUEUE_URL: Final = "TRANSCODE_QUEUE_URL"
ENV_RATE_LIMITS_TABLE_NAME: Final = "RATE_LIMITS_TABLE_NAME"
ENV_SEARCH_TABLE_NAME: Final = "SEARCH_TABLE_NAME"
ENV_RATE_LIMITS: Final = "RATE_LIMITS"
ENV_MODERATION_TABLE_NAME: Final = "MODERATION_TABLE_NAME"
ENV_IMAGE_MODERATION: Final = "IMAGE_MODERATION"
ENV_IMAGE_MODERATION_MIN_CONFIDENCE: Final = "IMAGE_MODERATION_MIN_CONFIDENCE"
ENV_WEBSOCKET_CALLBACK_URL: Final = "WEBSOCKET_CALLBACK_URL"
ENV_NOTIFICATION_GROUP_WINDOW_S: Final = "NOTIFICATION_GROUP_WINDOW_S"
ENV_PUSH_QUEUE_URL: Final = "PUSH_QUEUE_URL"
ENV_PUSH_PLATFORM_APPLICATIONS: Final = "PUSH_PLATFORM_APPLICATIONS"
ENV_PRIVACY_TABLE_NAME: Final = "PRIVACY_TABLE_NAME"
ENV_PURGE_QUEUE_URL: Final = "PURGE_QUEUE_URL"
ENV_EXPORT_QUEUE_URL: Final = "EXPORT_QUEUE_URL"
ENV_ACCOUNT_DELETION_GRACE_DAYS: Final = "ACCOUNT_DELETION_GRACE_DAYS"
ENV_SERVICE_NAME: Final = "POWERTOOLS_SERVICE_NAME"
ENV_METRICS_NAMESPACE: Final = "POWERTOOLS_METRICS_NAMESPACE"
ENV_LOG_LEVEL: Final = "POWERTOOLS_LOG_LEVEL"
METRICS_NAMESPACE: Final = "Pinhole"

# routes that need no token (API.md "Conventions"); every other route has the JWT authorizer
PUBLIC_ROUTES: Final = frozenset(
    {
        "POST /auth/signup",
        "POST /auth/login",
        "POST /auth/refresh",
        "POST /auth/login/totp",
        "POST /auth/login/recovery",
        "POST /auth/logout",
        "POST /auth/password/forgot",
        "POST /auth/password/reset",
        "GET /health",
        "GET /openapi.json",
        "GET /docs",
        "$default",
    }
)

# context keys (cdk.json "context", or `cdk synth -c key=value`)
CTX_STAGE: Final = "stage"  # stacks/stage.py: what production forbids
CTX_CORS_ORIGINS: Final = "cors_origins"
CTX_API_GATEWAY_LOGGING_ROLE: Final = "api_gateway_account_logging_role"
CTX_HTTP_THROTTLE_RATE: Final = "http_api_throttle_rate_limit"
CTX_HTTP_THROTTLE_BURST: Final = "http_api_throttle_burst_limit"
CTX_WEBSOCKET_THROTTLE_RATE: Final = "websocket_throttle_rate_limit"
CTX_WEBSOCKET_THROTTLE_BURST: Final = "websocket_throttle_burst_limit"
CTX_CELEBRITY_THRESHOLD: Final = "celebrity_threshold"
CTX_FEED_CAP: Final = "feed_cap"
CTX_FEED_RANKING: Final = "feed_ranking"  # pinhole.shared.settings.FeedRankingSettings, over its defaults
CTX_RATE_LIMITS: Final = "rate_limits"
CTX_ACCOUNT_DELETION_GRACE_DAYS: Final = "account_deletion_grace_days"
CTX_WAF: Final = "waf"  # a WAF web ACL on every distribution; on by default in production (stacks/stage.py)
CTX_WAF_RATE_LIMIT: Final = "waf_rate_limit"  # requests per source address per 5 minutes before WAF blocks it
CTX_ALARM_EMAIL: Final = "alarm_email"  # an address subscribed to the alarm topic (none by default)
CTX_IMAGE_MODERATION: Final = "image_moderation"  # resize screens images with Rekognition (off by default)
CTX_IMAGE_MODERATION_MIN_CONFIDENCE: Final = "image_moderation_min_confidence"  # 0-100: a label this sure holds a post
# Secrets Manager secrets holding push credentials, by name (none by default: push is off). APNs (token
# auth): a JSON secret {signing_key, key_id, team_id, bundle_id}; FCM (HTTP v1): the service account's JSON.
CTX_PUSH_APNS_SECRET: Final = "push_apns_secret"  # noqa: S105 - a context key
CTX_PUSH_APNS_SANDBOX_SECRET: Final = "push_apns_sandbox_secret"  # noqa: S105 - a context key
CTX_PUSH_FCM_SECRET: Final = "push_fcm_secret"  # noqa: S105 - a context key
CTX_NOTIFICATION_GROUP_WINDOW: Final = "notification_group_window_minutes"  # likes/comments on a post fold into one
DEFAULT_STAGE: Final = "prod"
DEFAULT_CORS_ORIGINS: Final = ("http://localhost:8000",)
DEFAULT_API_GATEWAY_LOGGING_ROLE: Final = True
DEFAULT_HTTP_THROTTLE_RATE: Final = 100
DEFAULT_HTTP_THROTTLE_BURST: Final = 200
DEFAULT_WEBSOCKET_THROTTLE_RATE: Final = 50
DEFAULT_WEBSOCKET_THROTTLE_BURST: Final = 100
DEFAULT_CELEBRITY_THRESHOLD: Final = 300_000  # docs/SCALING.md
DEFAULT_FEED_CAP: Final = 800
DEFAULT_IMAGE_MODERATION: Final = False
DEFAULT_IMAGE_MODERATION_MIN_CONFIDENCE: Final = 80  # docs/SECURITY.md "Automatic screening"
DEFAULT_NOTIFICATION_GROUP_WINDOW_MINUTES: Final = 24 * 60
DEFAULT_ACCOUNT_DELETION_GRACE_DAYS: Final = 30  # Instagram's, and what users of deletion flows expect
DEFAULT_WAF_RATE_LIMIT: Final = 3000  # docs/INFRASTRUCTURE.md "Edge": a fast feed scroll stays far below it

# source paths, relative to the repo root (cdk.json runs app.py from there)
DOMAIN_LAYER_SOURCE_DIR: Final = "layers/pinhole/pinhole"
DOMAIN_LAYER_REQUIREMENTS: Final = "layers/pinhole/requirements.txt"
IMAGING_LAYER_SOURCE_DIR: Final = "layers/imaging"
IMAGING_LAYER_REQUIREMENTS: Final = "layers/imaging/requirements.txt"
HEIF_LAYER_REQUIREMENTS: Final = "layers/heif/requirements.txt"
VIDEO_LAYER_REQUIREMENTS: Final = "layers/video/requirements.txt"
AUTH_LAYER_REQUIREMENTS: Final = "layers/auth/requirements.txt"
FUNCTIONS_DIR: Final = "functions"
WEB_DIST_DIR: Final = "web/dist"  # `make web` builds it from web/src
