"""meta: health, the OpenAPI document, Swagger UI, and the `$default` catch-all (all public).

Its code asset is the whole functions/ folder: the OpenAPI document is built from every context's
resolver, so meta imports the other handlers."""

from aws_cdk import aws_apigatewayv2 as apigwv2
from constructs import Construct

from stacks import constants
from stacks.function_factory import FunctionFactory
from stacks.stateless.api_construct import HttpApiGateway

ROUTES = (
    (apigwv2.HttpMethod.GET, "/health"),
    (apigwv2.HttpMethod.GET, "/openapi.json"),
    (apigwv2.HttpMethod.GET, "/docs"),
)
HANDLER = f"{constants.META}.handler.handler"


class MetaApi(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, factory: FunctionFactory, http_api: HttpApiGateway):
        super().__init__(scope, construct_id)
        self.function = factory.create(self, context=constants.META, code_dir=constants.FUNCTIONS_DIR, handler=HANDLER)
        http_api.add_routes(self.function, ROUTES, public=True)
        http_api.add_default_route(self.function)
