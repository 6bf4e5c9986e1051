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

# stateful constructs
AUTH_IDENTITY_CONSTRUCT_ID: Final = "AuthIdentity"
USER_POOL_ID: Final = "UserPool"
USER_POOL_CLIENT_ID: Final = "UserPoolClient"
USERS_DATA_CONSTRUCT_ID: Final = "UsersData"
USERS_TABLE_ID: Final = "UsersTable"
USERS_BY_USERNAME_INDEX: Final = "username-index"
MEDIA_STORAGE_CONSTRUCT_ID: Final = "MediaStorage"
ACCESS_LOGS_BUCKET_ID: Final = "AccessLogsBucket"
UPLOADS_BUCKET_ID: Final = "UploadsBucket"
MEDIA_BUCKET_ID: Final = "MediaBucket"

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
AUTH_API_CONSTRUCT_ID: Final = "AuthApi"
USERS_API_CONSTRUCT_ID: Final = "UsersApi"
META_API_CONSTRUCT_ID: Final = "MetaApi"
MESSAGING_CONSTRUCT_ID: Final = "Messaging"
MEDIA_CDN_CONSTRUCT_ID: Final = "MediaCdn"
MEDIA_DISTRIBUTION_ID: Final = "MediaDistribution"
MEDIA_HEADERS_POLICY_ID: Final = "MediaSecurityHeaders"
FUNCTION_ID: Final = "Function"  # inside each context construct: <Context>Api/Function

# outputs of the stateless stack (API.md "Endpoints"; .local/outputs.json has the same keys)
OUTPUT_HTTP_API_URL: Final = "HttpApiUrl"
OUTPUT_WEBSOCKET_URL: Final = "WebSocketUrl"
OUTPUT_MEDIA_BASE_URL: Final = "MediaBaseUrl"
OUTPUT_USER_POOL_ID: Final = "UserPoolId"
OUTPUT_USER_POOL_CLIENT_ID: Final = "UserPoolClientId"
OUTPUT_REGION: Final = "Region"
OUTPUT_KEYS: Final = (
    OUTPUT_HTTP_API_URL,
    OUTPUT_WEBSOCKET_URL,
    OUTPUT_MEDIA_BASE_URL,
    OUTPUT_USER_POOL_ID,
    OUTPUT_USER_POOL_CLIENT_ID,
    OUTPUT_REGION,
)

# function environment (pinhole.shared.settings reads these names)
ENV_USERS_TABLE_NAME: Final = "USERS_TABLE_NAME"
ENV_USER_POOL_ID: Final = "USER_POOL_ID"
ENV_USER_POOL_CLIENT_ID: Final = "USER_POOL_CLIENT_ID"
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
        "GET /health",
        "GET /openapi.json",
        "GET /docs",
        "$default",
    }
)

# context keys (cdk.json "context", or `cdk synth -c key=value`)
CTX_CORS_ORIGINS: Final = "cors_origins"
CTX_HTTP_THROTTLE_RATE: Final = "http_api_throttle_rate_limit"
CTX_HTTP_THROTTLE_BURST: Final = "http_api_throttle_burst_limit"
CTX_WEBSOCKET_THROTTLE_RATE: Final = "websocket_throttle_rate_limit"
CTX_WEBSOCKET_THROTTLE_BURST: Final = "websocket_throttle_burst_limit"
DEFAULT_CORS_ORIGINS: Final = ("http://localhost:8000",)
DEFAULT_HTTP_THROTTLE_RATE: Final = 100
DEFAULT_HTTP_THROTTLE_BURST: Final = 200
DEFAULT_WEBSOCKET_THROTTLE_RATE: Final = 50
DEFAULT_WEBSOCKET_THROTTLE_BURST: Final = 100

# source paths, relative to the repo root (cdk.json runs app.py from there)
DOMAIN_LAYER_SOURCE_DIR: Final = "layers/pinhole/pinhole"
DOMAIN_LAYER_REQUIREMENTS: Final = "layers/pinhole/requirements.txt"
FUNCTIONS_DIR: Final = "functions"
