"""upload: posts and stories and their pre-signed uploads (JWT routes), and the sweep that fails posts
(and stories) whose upload never arrived."""

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks import constants
from stacks.function_factory import FunctionFactory
from stacks.stateless.api_construct import HttpApiGateway
from stacks.stateless.grants import grant_objects, grant_rendition_removal, grant_table_read, grant_table_read_write
from stacks.stateless.schedules import run_every

ROUTES = (
    (apigwv2.HttpMethod.POST, "/posts"),
    (apigwv2.HttpMethod.GET, "/posts/{post_id}"),
    (apigwv2.HttpMethod.PATCH, "/posts/{post_id}"),
    (apigwv2.HttpMethod.DELETE, "/posts/{post_id}"),
    (apigwv2.HttpMethod.GET, "/users/{username}/posts"),
    (apigwv2.HttpMethod.POST, "/stories"),
    (apigwv2.HttpMethod.DELETE, "/me/stories/{story_id}"),
    (apigwv2.HttpMethod.POST, "/me/avatar"),
    (apigwv2.HttpMethod.DELETE, "/me/avatar"),
)
SWEEP_EVERY = Duration.minutes(5)


class UploadApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        http_api: HttpApiGateway,
        users_table: dynamodb.ITableV2,
        posts_table: dynamodb.ITableV2,
        uploads_bucket: s3.IBucket,
        media_bucket: s3.IBucket,
        invalidations: sqs.IQueue,
        graph_table: dynamodb.ITableV2,
        interactions_table: dynamodb.ITableV2,
        cursor_secret: secretsmanager.ISecret,
    ) -> None:
        super().__init__(scope, construct_id)
        code_dir = f"{constants.FUNCTIONS_DIR}/{constants.UPLOAD}"
        self.function = factory.create(self, context=constants.UPLOAD, code_dir=code_dir)
        grant_table_read_write(self.function, posts_table, index_names=[constants.POSTS_BY_AUTHOR_INDEX])
        grant_table_read_write(self.function, users_table, index_names=[constants.USERS_BY_USERNAME_INDEX])
        grant_table_read(self.function, graph_table)  # who may see a private account's posts
        grant_table_read(self.function, interactions_table)  # the caller's liked_by_me and saved_by_me
        # Signing a pre-signed POST needs the right to put what it lets the client put, and no more.
        grant_objects(self.function, uploads_bucket, f"{constants.UPLOAD_KEY_PREFIX}*", ["s3:PutObject"])
        grant_objects(self.function, uploads_bucket, f"{constants.AVATAR_KEY_PREFIX}*", ["s3:PutObject"])
        # DELETE /me/avatar removes the renditions and queues their invalidation.
        grant_rendition_removal(self.function, media_bucket, invalidations, constants.AVATAR_KEY_PREFIX)
        cursor_secret.grant_read(self.function)
        http_api.add_routes(self.function, ROUTES, public=False)

        sweep_scope = Construct(self, "Sweep")
        self.sweep = factory.create(sweep_scope, context=constants.UPLOAD, code_dir=code_dir, handler="handler.sweep")
        grant_table_read_write(self.sweep, posts_table, index_names=[constants.POSTS_PENDING_INDEX])
        self.sweep_schedule = run_every(sweep_scope, self.sweep, SWEEP_EVERY, "Fail posts whose upload never arrived")
