import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from pinhole.shared.settings import FeedRankingSettings, RateLimit
from stacks import constants
from stacks.function_factory import FunctionEnvironment, FunctionFactory
from stacks.stateful.push_construct import sns_arn
from stacks.stateful_stack import StatefulStack
from stacks.stateless.alarms import AlarmTopic
from stacks.stateless.api_construct import HttpApiGateway, Throttle, WebSocketGateway
from stacks.stateless.auth_construct import AuthApi
from stacks.stateless.edge import CloudFrontFirewall, require_cloudfront_region
from stacks.stateless.feed_construct import FeedFanout, FeedReadApi, FeedSignals
from stacks.stateless.grants import grant_table_read_write
from stacks.stateless.layers_construct import auth_layer, domain_layer, heif_layer, imaging_layer, video_layer
from stacks.stateless.media_construct import MediaCdn
from stacks.stateless.messaging_construct import Messaging
from stacks.stateless.meta_construct import MetaApi
from stacks.stateless.moderation_construct import ModerationApi
from stacks.stateless.notifications_construct import Notifications
from stacks.stateless.privacy_construct import Privacy
from stacks.stateless.push_construct import Push
from stacks.stateless.resize_construct import Resize
from stacks.stateless.search_construct import Search
from stacks.stateless.social_construct import SocialApi
from stacks.stateless.streams_construct import StreamRoutes
from stacks.stateless.transcode_construct import Transcode
from stacks.stateless.upload_construct import UploadApi
from stacks.stateless.users_construct import UsersApi
from stacks.stateless.web_construct import UploadsCors, WebApp

REPO_ROOT = Path(__file__).resolve().parent.parent


def _imported_bucket(scope: Construct, construct_id: str, bucket: s3.IBucket) -> s3.IBucket:
    """A bucket of the stateful stack seen by reference, so that wiring the CDN to it cannot write
    back into the stateful stack (which would make the two stacks depend on each other)."""
    return s3.Bucket.from_bucket_attributes(
        scope,
        construct_id,
        bucket_name=bucket.bucket_name,
        bucket_arn=bucket.bucket_arn,
        bucket_regional_domain_name=bucket.bucket_regional_domain_name,
    )


@dataclass(frozen=True)
class FeedSettings:
    celebrity_threshold: int
    feed_cap: int
    ranking: FeedRankingSettings = field(default_factory=FeedRankingSettings)


@dataclass(frozen=True)
class ScreeningSettings:
    """Context `image_moderation` (off by default) and `image_moderation_min_confidence` (docs/SECURITY.md)."""

    image_moderation: bool
    min_confidence: float


@dataclass(frozen=True)
class EdgeSettings:
    """Context `waf` (on by default in production) and `waf_rate_limit`; `alarm_email` for the alarm topic."""

    waf: bool
    waf_rate_limit: int
    alarm_email: str | None = None


class StatelessStack(Stack):
    """APIs, functions, the domain layer and the CDN: no data, safe to destroy and redeploy."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stateful: StatefulStack,
        cors_origins: Sequence[str],
        http_throttle: Throttle,
        websocket_throttle: Throttle,
        manage_api_gateway_logging_role: bool,
        feed: FeedSettings,
        rate_limits: Mapping[str, RateLimit],
        edge: EdgeSettings,
        screening: ScreeningSettings,
        notification_group_window_minutes: int = 24 * 60,
        account_deletion_grace_days: int = constants.DEFAULT_ACCOUNT_DELETION_GRACE_DAYS,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        require_cloudfront_region(self)
        user_pool = stateful.auth.user_pool
        user_pool_client = stateful.auth.user_pool_client
        users_table = stateful.users.table
        posts_table = stateful.posts.table
        storage = stateful.media

        access_logs = _imported_bucket(self, "ImportedAccessLogsBucket", storage.access_logs_bucket)
        self.alarm_topic = AlarmTopic(self, constants.ALARM_TOPIC_CONSTRUCT_ID, email=edge.alarm_email)
        self.firewall = (
            CloudFrontFirewall(self, constants.EDGE_FIREWALL_CONSTRUCT_ID, requests_per_address=edge.waf_rate_limit)
            if edge.waf
            else None
        )
        self.media = MediaCdn(
            self,
            constants.MEDIA_CDN_CONSTRUCT_ID,
            media_bucket=_imported_bucket(self, "ImportedMediaBucket", storage.media_bucket),
            access_logs_bucket=access_logs,
            web_acl_arn=self.firewall.web_acl_arn if self.firewall else None,
        )
        websocket_api = WebSocketGateway(
            self,
            constants.WEBSOCKET_API_CONSTRUCT_ID,
            throttle=websocket_throttle,
            manage_account_logging_role=manage_api_gateway_logging_role,
        )
        factory = FunctionFactory(
            layers=(domain_layer(self),),
            environment=FunctionEnvironment(
                users_table_name=users_table.table_name,
                user_pool_id=user_pool.user_pool_id,
                user_pool_client_id=user_pool_client.user_pool_client_id,
                posts_table_name=posts_table.table_name,
                graph_table_name=stateful.graph.table.table_name,
                interactions_table_name=stateful.social.table.table_name,
                feeds_table_name=stateful.feed.table.table_name,
                fanout_queue_url=stateful.feed.fanout_queue.queue_url,
                idempotency_table_name=stateful.idempotency.table.table_name,
                celebrity_threshold=feed.celebrity_threshold,
                feed_cap=feed.feed_cap,
                uploads_bucket_name=storage.uploads_bucket.bucket_name,
                media_bucket_name=storage.media_bucket.bucket_name,
                message_media_bucket_name=storage.message_media_bucket.bucket_name,
                media_base_url=self.media.base_url,
                media_distribution_id=self.media.distribution.distribution_id,
                media_invalidations_queue_url=stateful.media_invalidations.queue.queue_url,
                cursor_secret_arn=stateful.secrets.cursor_secret.secret_arn,
                messages_table_name=stateful.messaging.table.table_name,
                connections_table_name=stateful.messaging.connections_table.table_name,
                notifications_table_name=stateful.notifications.table.table_name,
                notifications_queue_url=stateful.notifications.queue.queue_url,
                transcode_queue_url=storage.transcode_queue.queue_url,
                rate_limits_table_name=stateful.rate_limits.table.table_name,
                search_table_name=stateful.search.table.table_name,
                rate_limits=json.dumps({action: limit.model_dump() for action, limit in sorted(rate_limits.items())}),
                websocket_callback_url=websocket_api.callback_url,
                moderation_table_name=stateful.moderation.table.table_name,
                image_moderation=screening.image_moderation,
                image_moderation_min_confidence=screening.min_confidence,
                notification_group_window_s=notification_group_window_minutes * 60,
                push_queue_url=stateful.push.queue.queue_url,
                push_platform_applications=self.to_json_string(
                    {
                        platform: sns_arn(self, "app", platform, name)
                        for platform, name in sorted(stateful.push_platforms.names.items())
                    }
                ),
                privacy_table_name=stateful.privacy.table.table_name,
                purge_queue_url=stateful.privacy.purge_queue.queue_url,
                export_queue_url=stateful.privacy.export_queue.queue_url,
                account_deletion_grace_days=account_deletion_grace_days,
            ),
        )
        uploads = storage.uploads_bucket.bucket_name
        self.web = WebApp(
            self,
            constants.WEB_APP_CONSTRUCT_ID,
            dist=REPO_ROOT / constants.WEB_DIST_DIR,
            access_logs_bucket=access_logs,
            web_acl_arn=self.firewall.web_acl_arn if self.firewall else None,
            # The APIs by region, not by id: the HTTP API's CORS names the app's origin, so its URL here
            # would be a dependency cycle. Uploads go straight to the uploads bucket (pre-signed POST).
            connect_sources=[
                f"https://*.execute-api.{self.region}.amazonaws.com",
                f"wss://*.execute-api.{self.region}.amazonaws.com",
                f"https://{uploads}.s3.amazonaws.com",
                f"https://{uploads}.s3.{self.region}.amazonaws.com",
            ],
            media_sources=[self.media.base_url],
        )
        self.uploads_cors = UploadsCors(
            self.web,
            constants.WEB_UPLOADS_CORS_ID,
            bucket=storage.uploads_bucket,
            origins=[*cors_origins, self.web.origin],
        )
        http_api = HttpApiGateway(
            self,
            constants.HTTP_API_CONSTRUCT_ID,
            user_pool=user_pool,
            user_pool_client=user_pool_client,
            cors_origins=[*cors_origins, self.web.origin],
            throttle=http_throttle,
        )

        tables = {
            "users": users_table,
            "posts": posts_table,
            "graph": stateful.graph.table,
            "interactions": stateful.social.table,
            "feeds": stateful.feed.table,
            "idempotency": stateful.idempotency.table,
            "messages": stateful.messaging.table,
            "connections": stateful.messaging.connections_table,
            "notifications": stateful.notifications.table,
            "rate_limits": stateful.rate_limits.table,
            "search": stateful.search.table,
            "moderation": stateful.moderation.table,
            "privacy": stateful.privacy.table,
        }
        # Every table stream's one reader; consumers subscribe to it (stacks/stateless/streams_construct.py).
        self.stream_routes = StreamRoutes(
            self,
            constants.STREAM_ROUTES_CONSTRUCT_ID,
            factory=factory,
            tables=tables,
            overflow_bucket=stateful.stream_overflow.bucket,
        )
        self.auth = AuthApi(
            self,
            constants.AUTH_API_CONSTRUCT_ID,
            factory=factory,
            http_api=http_api,
            users_table=users_table,
            connections_table=stateful.messaging.connections_table,
            websocket_api=websocket_api,
            user_pool=user_pool,
        )
        self.users = UsersApi(
            self,
            constants.USERS_API_CONSTRUCT_ID,
            factory=factory,
            http_api=http_api,
            users_table=users_table,
            graph_table=stateful.graph.table,
            interactions_table=stateful.social.table,
            cursor_secret=stateful.secrets.cursor_secret,
            user_pool=user_pool,
            stream_routes=self.stream_routes,
        )
        self.meta = MetaApi(self, constants.META_API_CONSTRUCT_ID, factory=factory, http_api=http_api)
        self.upload = UploadApi(
            self,
            constants.UPLOAD_API_CONSTRUCT_ID,
            factory=factory,
            http_api=http_api,
            users_table=users_table,
            posts_table=posts_table,
            uploads_bucket=storage.uploads_bucket,
            media_bucket=storage.media_bucket,
            invalidations=stateful.media_invalidations.queue,
            graph_table=stateful.graph.table,
            interactions_table=stateful.social.table,
            cursor_secret=stateful.secrets.cursor_secret,
        )
        grant_table_read_write(self.upload.function, stateful.idempotency.table)  # Idempotency-Key
        pictures = imaging_layer(self)
        self.resize = Resize(
            self,
            constants.RESIZE_CONSTRUCT_ID,
            factory=factory,
            imaging_layers=(pictures, heif_layer(self)),
            upload_events=storage.upload_events,
            transcode_queue=storage.transcode_queue,
            upload_events_dlq=storage.upload_events_dlq,
            uploads_bucket=storage.uploads_bucket,
            media_bucket=storage.media_bucket,
            message_media_bucket=storage.message_media_bucket,
            posts_table=posts_table,
            users_table=users_table,
            moderation_table=stateful.moderation.table,
            tables=tables,
            websocket_api=websocket_api,
            distribution=self.media.distribution,
            invalidations=stateful.media_invalidations,
            stream_routes=self.stream_routes,
        )
        self.transcode = Transcode(
            self,
            constants.TRANSCODE_CONSTRUCT_ID,
            factory=factory,
            imaging_layer=pictures,
            video_layer=video_layer(self),
            transcode_queue=storage.transcode_queue,
            transcode_dlq=storage.transcode_dlq,
            transcode_unsettled=storage.transcode_unsettled,
            uploads_bucket=storage.uploads_bucket,
            media_bucket=storage.media_bucket,
            message_media_bucket=storage.message_media_bucket,
            posts_table=posts_table,
            users_table=users_table,
            moderation_table=stateful.moderation.table,
            tables=tables,
            websocket_api=websocket_api,
            invalidations=stateful.media_invalidations.queue,
        )
        self.social = SocialApi(
            self,
            constants.SOCIAL_API_CONSTRUCT_ID,
            factory=factory,
            http_api=http_api,
            tables=tables,
            cursor_secret=stateful.secrets.cursor_secret,
            stream_routes=self.stream_routes,
        )
        self.feed_read = FeedReadApi(
            self,
            constants.FEED_READ_CONSTRUCT_ID,
            factory=factory,
            http_api=http_api,
            tables=tables,
            cursor_secret=stateful.secrets.cursor_secret,
            ranking=feed.ranking.model_dump_json(),
        )
        self.feed_signals = FeedSignals(
            self,
            constants.FEED_SIGNALS_CONSTRUCT_ID,
            factory=factory,
            tables=tables,
            ranking=feed.ranking.model_dump_json(),
            stream_routes=self.stream_routes,
        )
        self.feed_fanout = FeedFanout(
            self,
            constants.FEED_FANOUT_CONSTRUCT_ID,
            factory=factory,
            tables=tables,
            fanout_queue=stateful.feed.fanout_queue,
            fanout_dlq=stateful.feed.fanout_dlq,
            stream_routes=self.stream_routes,
            ranking=feed.ranking.model_dump_json(),
        )
        self.messaging = Messaging(
            self,
            constants.MESSAGING_CONSTRUCT_ID,
            factory=factory,
            http_api=http_api,
            websocket_api=websocket_api,
            tables=tables,
            cursor_secret=stateful.secrets.cursor_secret,
            uploads_bucket=storage.uploads_bucket,
            message_media_bucket=storage.message_media_bucket,
            auth_layer=auth_layer(self),
        )
        self.notifications = Notifications(
            self,
            constants.NOTIFICATIONS_CONSTRUCT_ID,
            factory=factory,
            http_api=http_api,
            websocket_api=websocket_api,
            tables=tables,
            queue=stateful.notifications.queue,
            dead_letters=stateful.notifications.dlq,
            cursor_secret=stateful.secrets.cursor_secret,
            stream_routes=self.stream_routes,
        )
        self.push = Push(
            self,
            constants.PUSH_CONSTRUCT_ID,
            factory=factory,
            http_api=http_api,
            tables=tables,
            queue=stateful.push.queue,
            dead_letters=stateful.push.dlq,
            application_name_prefix=stateful.stack_name,
        )
        # Signing out everywhere forgets the account's phones (their items and SNS endpoints).
        grant_table_read_write(self.auth.function, stateful.notifications.table)
        self.push.grant_endpoint_cleanup(self.auth.function)
        # Who queues pushes: a stored notification, a delivered message (HTTP and WebSocket).
        # resize and transcode deliver photo and video messages once their media is ready.
        for function in (
            self.notifications.deliver,
            self.messaging.function,
            self.messaging.websocket,
            self.resize.function,
            self.transcode.function,
            self.transcode.dead_letter,  # reaches the same delivery code (it only ever rejects)
            self.messaging.sweep,  # the same (it only ever refuses)
        ):
            self.push.grant_queue(function)
        self.search = Search(
            self,
            constants.SEARCH_CONSTRUCT_ID,
            factory=factory,
            http_api=http_api,
            tables=tables,
            cursor_secret=stateful.secrets.cursor_secret,
            stream_routes=self.stream_routes,
        )
        self.moderation = ModerationApi(
            self,
            constants.MODERATION_API_CONSTRUCT_ID,
            factory=factory,
            http_api=http_api,
            websocket_api=websocket_api,
            tables=tables,
            user_pool=user_pool,
            cursor_secret=stateful.secrets.cursor_secret,
        )
        self.privacy = Privacy(
            self,
            constants.PRIVACY_CONSTRUCT_ID,
            factory=factory,
            http_api=http_api,
            websocket_api=websocket_api,
            tables=tables,
            data=stateful.privacy,
            uploads_bucket=storage.uploads_bucket,
            media_bucket=storage.media_bucket,
            message_media_bucket=storage.message_media_bucket,
            user_pool=user_pool,
            stream_routes=self.stream_routes,
            invalidations=stateful.media_invalidations.queue,
        )
        self.push.grant_endpoint_cleanup(self.privacy.purge)  # a purged account's phones: their SNS endpoints
        # A log-in within a deleted account's grace period reactivates it (pinhole.privacy.logic).
        grant_table_read_write(self.auth.function, stateful.privacy.table)
        # Per-user write limits (pinhole.shared.rate_limits) on posts, follows, likes and comments; log-in attempts.
        for function in (self.auth.function, self.upload.function, self.users.function, self.social.function):
            grant_table_read_write(function, stateful.rate_limits.table)
        self.http_api = http_api
        self.websocket_api = websocket_api

        outputs = {
            constants.OUTPUT_HTTP_API_URL: http_api.url,
            constants.OUTPUT_WEBSOCKET_URL: websocket_api.url,
            constants.OUTPUT_MEDIA_BASE_URL: self.media.base_url,
            constants.OUTPUT_USER_POOL_ID: user_pool.user_pool_id,
            constants.OUTPUT_USER_POOL_CLIENT_ID: user_pool_client.user_pool_client_id,
            constants.OUTPUT_REGION: self.region,
        }
        self.web.deploy_config({key: outputs[key] for key in constants.WEB_CONFIG_KEYS})
        outputs[constants.OUTPUT_WEB_APP_URL] = self.web.url
        for key, value in outputs.items():
            CfnOutput(self, key, value=value)
