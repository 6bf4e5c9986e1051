from collections.abc import Mapping
from typing import Any

from aws_cdk import Stack
from constructs import Construct

from stacks import constants
from stacks.stateful.api_secrets_construct import ApiSecrets
from stacks.stateful.auth_construct import AuthIdentity
from stacks.stateful.feed_construct import FeedData
from stacks.stateful.graph_construct import GraphData
from stacks.stateful.idempotency_construct import IdempotencyData
from stacks.stateful.media_construct import MediaStorage
from stacks.stateful.media_invalidations_construct import MediaInvalidations
from stacks.stateful.messaging_construct import MessagingData
from stacks.stateful.moderation_construct import ModerationData
from stacks.stateful.notifications_construct import NotificationsData
from stacks.stateful.posts_construct import PostsData
from stacks.stateful.privacy_construct import PrivacyData
from stacks.stateful.push_construct import PushData, PushPlatforms
from stacks.stateful.rate_limits_construct import RateLimitsData
from stacks.stateful.search_construct import SearchData
from stacks.stateful.social_construct import SocialData
from stacks.stateful.streams_construct import StreamOverflow
from stacks.stateful.users_construct import UsersData


class StatefulStack(Stack):
    """Everything that holds data. All of it is retained when the stack is deleted."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        push_secrets: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.auth = AuthIdentity(self, constants.AUTH_IDENTITY_CONSTRUCT_ID)
        self.users = UsersData(self, constants.USERS_DATA_CONSTRUCT_ID)
        self.posts = PostsData(self, constants.POSTS_DATA_CONSTRUCT_ID)
        self.graph = GraphData(self, constants.GRAPH_DATA_CONSTRUCT_ID)
        self.social = SocialData(self, constants.SOCIAL_DATA_CONSTRUCT_ID)
        self.feed = FeedData(self, constants.FEED_DATA_CONSTRUCT_ID)
        self.media = MediaStorage(self, constants.MEDIA_STORAGE_CONSTRUCT_ID)
        self.secrets = ApiSecrets(self, constants.API_SECRETS_CONSTRUCT_ID)
        self.idempotency = IdempotencyData(self, constants.IDEMPOTENCY_DATA_CONSTRUCT_ID)
        self.messaging = MessagingData(self, constants.MESSAGING_DATA_CONSTRUCT_ID)
        self.notifications = NotificationsData(self, constants.NOTIFICATIONS_DATA_CONSTRUCT_ID)
        self.rate_limits = RateLimitsData(self, constants.RATE_LIMITS_DATA_CONSTRUCT_ID)
        self.search = SearchData(self, constants.SEARCH_DATA_CONSTRUCT_ID)
        self.moderation = ModerationData(self, constants.MODERATION_DATA_CONSTRUCT_ID)
        self.privacy = PrivacyData(self, constants.PRIVACY_DATA_CONSTRUCT_ID)
        self.media_invalidations = MediaInvalidations(self, constants.MEDIA_INVALIDATIONS_CONSTRUCT_ID)
        self.stream_overflow = StreamOverflow(
            self, constants.STREAM_OVERFLOW_CONSTRUCT_ID, access_logs_bucket=self.media.access_logs_bucket
        )
        self.push = PushData(self, constants.PUSH_DATA_CONSTRUCT_ID)
        self.push_platforms = PushPlatforms(self, constants.PUSH_PLATFORMS_CONSTRUCT_ID, secrets=push_secrets or {})
