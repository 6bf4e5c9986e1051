"""Assembles the local cloud: moto, provisioning, functions, gateways and pumps behind one port."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.config import Config
from moto.server import ThreadedMotoServer
from starlette.types import Receive, Scope, Send

from local.cognito_strict import install as make_cognito_strict
from local.dynamodb_engine import use_dynamodb
from local.endpoints import MANAGEMENT_PREFIX, MEDIA_PREFIX, S3_PREFIX, WEBSOCKET_PATH, LocalEndpoints
from local.errors import error_response
from local.fast_dynamodb import Consistency
from local.http_gateway import HttpGateway
from local.iam.authorizer import Authorizer, TemplateLookups, authorizer_for
from local.iam.policies import PolicyStore, function_roles
from local.in_process import AsgiEndpoint, enabled_by_environment, install, transport
from local.jwt_authorizer import JwksCache
from local.lambda_runner import LambdaRunner, LocalFunction, functions_from
from local.mailbox import MAIL_PREFIX, MailboxEndpoint
from local.media import MediaEndpoint
from local.moderators import MODERATORS_GROUP, MODERATORS_PREFIX, ModeratorsEndpoint
from local.moto_cognito_passwords import install as take_passwords_as_long_as_cognito_does
from local.moto_dispatch import install as skip_moto_class_walk
from local.moto_dynamodb_limits import enforce_dynamodb_limits
from local.moto_s3_listing import install as list_s3_while_keys_are_deleted
from local.moto_s3_ranges import install as tell_the_size_of_unsatisfiable_ranges
from local.moto_sqs_attributes import install as read_sqs_attributes_alone
from local.moto_sqs_limits import enforce_sqs_limits
from local.moto_sqs_receive import install as receive_sqs_messages_cheaper
from local.provision import LocalResources, Provisioner
from local.pumps import Pump, event_sources_from, pumps_from, settled, write_targets
from local.pumps.base import wakeup
from local.push_inbox import PUSH_PREFIX, PushInboxEndpoint
from local.rekognition import REKOGNITION_PREFIX, RekognitionStandIn
from local.request_overhead import install as sanitize_user_agents_once
from local.routes import Api, apis_from
from local.s3_front import PostedObjects, S3Front
from local.state import Restorer, RestoreReport, Snapshot, capture
from local.state.cognito import STABLE_ID_ENVIRONMENT
from local.template import REGION, CloudAssembly
from local.web import WEB_PREFIX, WebApp
from local.websocket_gateway import WebSocketGateway

log = logging.getLogger("local")

ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"  # noqa: S105 - moto's conventional fake credential
REPO_ROOT = Path(__file__).resolve().parent.parent
WEB_DIST = REPO_ROOT / "web" / "dist"
OUTPUT_KEYS = ("HttpApiUrl", "WebSocketUrl", "MediaBaseUrl", "UserPoolId", "UserPoolClientId", "Region", "WebAppUrl")
COMPUTED_LOCALLY = ("Region", "WebAppUrl")  # the template's values name AWS, not a local surface
CONCURRENCY_VARIABLE = "PINHOLE_CONCURRENT_EXECUTIONS"


def start_moto(consistency: Consistency | None = None) -> tuple[ThreadedMotoServer, str]:
    use_dynamodb(consistency)
    skip_moto_class_walk()
    enforce_dynamodb_limits()
    enforce_sqs_limits()
    read_sqs_attributes_alone()
    receive_sqs_messages_cheaper()
    list_s3_while_keys_are_deleted()
    tell_the_size_of_unsatisfiable_ranges()
    make_cognito_strict()
    take_passwords_as_long_as_cognito_does()
    # moto's werkzeug logs every internal call; only the gateway's own lines are useful.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def _freeze_startup_heap() -> None:
    """What start-up made (moto, botocore's service models, every handler's modules and clients: most of the
    process's objects, kept for its life) leaves the garbage collector's generations: a full collection while
    serving walks only what came after, instead of pausing every thread for the whole heap (a full collection
    during a benchmark's searches took 1.6 s; docs/LOCAL_CLOUD.md, "Where the time goes"). Start-up's own garbage
    is collected first."""
    gc.collect()
    gc.freeze()


def handler_environment(moto_url: str, endpoints: LocalEndpoints) -> dict[str, str]:
    """What the Lambda runtime would set, pointed at the local stand-ins so handler code is unchanged."""
    return {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ENDPOINT_URL_S3": endpoints.s3,
        "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": endpoints.management,
        # moto 5.2.5 has no DetectModerationLabels: local/rekognition.py stands in (never deployed)
        "AWS_ENDPOINT_URL_REKOGNITION": endpoints.rekognition,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
    }


@dataclass
class LocalCloud:
    assembly: CloudAssembly
    endpoints: LocalEndpoints
    moto: ThreadedMotoServer
    moto_url: str
    resources: LocalResources
    runner: LambdaRunner
    apis: list[Api]
    app: Any
    session: Any = None
    pumps: list[Pump] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    startup_s: float = 0.0
    restored: RestoreReport | None = None
    authorizer: Authorizer | None = None
    in_process: bool = False

    @property
    def websocket_served(self) -> bool:
        return getattr(self.app, "websocket", None) is not None

    consistency: Consistency = field(default_factory=Consistency)

    @classmethod
    def start(
        cls,
        cdk_out: Path,
        endpoints: LocalEndpoints,
        start_pumps: bool = True,
        restore: Snapshot | None = None,
        stable_ids: bool = False,
        enforce_iam: bool = True,
        consistency: Consistency | None = None,
    ) -> LocalCloud:
        """`restore` puts a snapshot back before anything is served or any pump runs; `stable_ids` gives
        the user pool and its client the same ids on every start (what a kept state needs); `enforce_iam`
        authorizes every AWS call of every function against its template role (local/iam/); `consistency`
        is DynamoDB's (strong by default; see local/fast_dynamodb/consistency.py)."""
        started = time.perf_counter()
        sanitize_user_agents_once()
        # Before the first botocore session: every client created from here on reaches moto in process.
        in_process = install() if enabled_by_environment() else None
        moto, moto_url = start_moto(consistency)
        if in_process is not None:
            in_process.serve(moto_url, endpoints.s3)
            # Idle pumps wait for writes to what they read instead of polling (and look at once when one comes).
            write_targets.install(wakeup.bump)
            wakeup.armed = True
        os.environ.update(handler_environment(moto_url, endpoints))
        os.environ.pop("AWS_SESSION_TOKEN", None)
        os.environ.pop("AWS_PROFILE", None)
        session = boto3.session.Session(region_name=REGION)
        assembly = CloudAssembly.load(cdk_out)
        restorer = Restorer(restore, session, moto_url) if restore is not None else None
        with _cognito_ids_from_configuration(stable_ids):
            resources = Provisioner(assembly, session, moto_url, hooks=restorer).run()
        # Before the pumps configure bucket notifications: restored objects are not new uploads.
        restored = restorer.restore_after_provisioning(assembly) if restorer else None
        apis = apis_from(assembly)
        http_ids = [api.api_id for api in apis if api.protocol == "HTTP"]
        ws_ids = [api.api_id for api in apis if api.protocol == "WEBSOCKET"]
        functions = functions_from(assembly, lambda value: endpoints.localize(value, http_ids, ws_ids))
        _export_shared_environment(functions)
        websocket = next(((api.api_id, api.stage) for api in apis if api.protocol == "WEBSOCKET"), None)
        authorizer = _authorize_as_the_template_says(assembly, functions, session, moto_url, endpoints, websocket)
        if not enforce_iam:
            for function in functions:
                function.identity = None
        # PINHOLE_CONCURRENT_EXECUTIONS: handlers executing at once (default one per core; docs/LOCAL_CLOUD.md)
        runner = LambdaRunner(functions, concurrent_executions=int(os.environ.get(CONCURRENCY_VARIABLE) or 0) or None)
        event_sources = event_sources_from(assembly, runner)
        wired = {route.function_logical_id for api in apis for route in api.routes if route.function_logical_id}
        wired |= {
            route.custom_authorizer_function for api in apis for route in api.routes if route.custom_authorizer_function
        }
        runner.load_all(required={name for name in wired if name} | {s.function.logical_id for s in event_sources})
        s3 = session.client("s3", config=Config(signature_version="s3v4"), endpoint_url=moto_url)
        posted = PostedObjects()
        jwks = JwksCache(lambda issuer: _fetch_jwks(moto_url, issuer))
        app = RootApp(
            http=_http_gateway(apis, runner, jwks),
            websocket=_websocket_gateway(apis, runner),
            s3=S3Front(
                moto_url,
                s3,
                {ACCESS_KEY_ID: SECRET_ACCESS_KEY},
                endpoints.s3,
                posted,
                authorizer if enforce_iam else None,
            ),
            media=MediaEndpoint(s3, resources.media_bucket),
        )
        app.rekognition = RekognitionStandIn()
        if MODERATORS_GROUP in resources.user_pool_groups:
            app.moderators = ModeratorsEndpoint(
                session.client("cognito-idp", endpoint_url=moto_url), resources.user_pool_id
            )
        cloud = cls(
            assembly=assembly,
            endpoints=endpoints,
            moto=moto,
            moto_url=moto_url,
            resources=resources,
            runner=runner,
            apis=apis,
            app=app,
            session=session,
            restored=restored,
            authorizer=authorizer if enforce_iam else None,
            in_process=in_process is not None,
            consistency=consistency or Consistency(),
        )
        cloud.outputs = cloud._outputs(http_ids, ws_ids)
        app.web = WebApp(WEB_DIST, endpoints, cloud.outputs)
        if start_pumps:
            cloud.pumps = pumps_from(assembly, resources, runner, session, moto_url, posted)
            for pump in cloud.pumps:
                pump.start()
        _freeze_startup_heap()
        cloud.startup_s = time.perf_counter() - started
        return cloud

    def _outputs(self, http_ids: list[str], ws_ids: list[str]) -> dict[str, str]:
        local = {
            "HttpApiUrl": self.endpoints.http_api,
            "WebSocketUrl": self.endpoints.websocket,
            "MediaBaseUrl": self.endpoints.media,
            "UserPoolId": self.resources.user_pool_id,
            "UserPoolClientId": self.resources.user_pool_client_id,
            "Region": REGION,
            "WebAppUrl": f"{self.endpoints.base}{WEB_PREFIX}/",
        }
        # Prefer the template's own outputs (localized) so URLs keep the deployed shape.
        for stack in self.assembly.stacks.values():
            for key, output in stack.outputs.items():
                if key in OUTPUT_KEYS and key not in COMPUTED_LOCALLY:
                    try:
                        value = str(self.assembly.resolve(stack, output["Value"]))
                    except Exception:  # noqa: S112 - an unresolvable output keeps the computed value
                        continue
                    local[key] = self.endpoints.localize(value, http_ids, ws_ids)
        return local

    def serving_on(self, loop: asyncio.AbstractEventLoop) -> None:
        """Called by the server once its event loop runs: handlers' `@connections` calls are answered in
        process from then on (`local.in_process`)."""
        if self.in_process and self.websocket_served:
            transport.serve_asgi(AsgiEndpoint("apigatewaymanagementapi", self.endpoints.management, self.app, loop))

    def settle_pumps(self, timeout_s: float) -> bool:
        """Waits (bounded) until no pump has work left: every event already caused has been handled."""
        deadline = time.monotonic() + timeout_s
        while not settled(self.pumps):
            if time.monotonic() > deadline:
                return False
            wakeup.bump()  # every idle pump looks again now, rather than at its next slow round
            time.sleep(0.02)
        return True

    def capture(self) -> Snapshot:
        """What testers created, for `local.state.StateDir.write`; best with the pumps stopped."""
        return capture(self.assembly, self.session, self.moto_url)

    def stop_pumps(self, timeout_s: float = 10) -> None:
        """Stops every pump and waits (bounded) for the invocation each may have in flight."""
        for pump in self.pumps:
            pump.stop()
        deadline = time.monotonic() + timeout_s
        for pump in self.pumps:
            pump.join(timeout=max(0.0, deadline - time.monotonic()))

    def stop(self) -> None:
        self.stop_pumps(timeout_s=2)
        self.runner.shutdown()
        transport.forget(self.moto_url, self.endpoints.s3)
        transport.forget_asgi(self.endpoints.management)
        self.moto.stop()
        gc.unfreeze()  # a process that goes on (a test session) collects what it no longer uses


@contextmanager
def _cognito_ids_from_configuration(enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    previous = {name: os.environ.get(name) for name in STABLE_ID_ENVIRONMENT}
    os.environ.update(STABLE_ID_ENVIRONMENT)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _authorize_as_the_template_says(
    assembly: CloudAssembly,
    functions: list[LocalFunction],
    session: Any,
    moto_url: str,
    endpoints: LocalEndpoints,
    websocket_api: tuple[str, str] | None,
) -> Authorizer:
    """Each function runs as its template role, every call checked against the template's policies."""
    secrets = session.client("secretsmanager", endpoint_url=moto_url)
    lookups = TemplateLookups(
        # One WebSocket API per template: its @connections endpoint is served at one local URL.
        websocket_endpoints={endpoints.management: websocket_api} if websocket_api else {},
        describe_secret=lambda name: str(secrets.describe_secret(SecretId=name)["ARN"]),
    )
    authorizer = authorizer_for(PolicyStore.from_assembly(assembly), lookups)
    roles = function_roles(assembly, [function.resource for function in functions])
    for function in functions:
        function.identity = authorizer.identity(function.name, roles[function.logical_id])
    return authorizer


def _export_shared_environment(functions: list[LocalFunction]) -> None:
    """Keep in os.environ the variables no two functions disagree on, for code that reads them late (a
    function told only variables of its own, such as a stream router, leaves the others shared)."""
    values: dict[str, set[str]] = {}
    for function in functions:
        for key, value in function.environment.items():
            values.setdefault(key, set()).add(value)
    os.environ.update({key: next(iter(found)) for key, found in values.items() if len(found) == 1})


def _fetch_jwks(moto_url: str, issuer: str) -> dict[str, Any]:
    pool_id = issuer.rstrip("/").rsplit("/", 1)[-1]
    response = httpx.get(f"{moto_url}/{pool_id}/.well-known/jwks.json", timeout=5)
    response.raise_for_status()
    return dict(response.json())


def _http_gateway(apis: list[Api], runner: LambdaRunner, jwks: JwksCache) -> HttpGateway | None:
    http_apis = [api for api in apis if api.protocol == "HTTP"]
    if len(http_apis) > 1:
        log.warning("%d HTTP APIs in the template; serving %s", len(http_apis), http_apis[0].logical_id)
    return HttpGateway(http_apis[0], runner, jwks) if http_apis else None


def _websocket_gateway(apis: list[Api], runner: LambdaRunner) -> WebSocketGateway | None:
    ws_apis = [api for api in apis if api.protocol == "WEBSOCKET"]
    return WebSocketGateway(ws_apis[0], runner) if ws_apis else None


class RootApp:
    """Dispatches by path prefix: media, S3 front, web app, WebSocket API and its management API, else the HTTP API."""

    def __init__(
        self,
        http: HttpGateway | None,
        websocket: WebSocketGateway | None,
        s3: S3Front,
        media: MediaEndpoint,
    ) -> None:
        self.http = http
        self.websocket = websocket
        self.s3 = s3
        self.media = media
        self.web: WebApp | None = None
        self.mail = MailboxEndpoint()
        self.rekognition: RekognitionStandIn | None = None  # local only: moto has no DetectModerationLabels
        self.moderators: ModeratorsEndpoint | None = None  # local only: a tester makes a moderator
        self.push = PushInboxEndpoint()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return
        path: str = scope["path"]
        if scope["type"] == "websocket":
            if self.websocket is not None and path.rstrip("/") == WEBSOCKET_PATH:
                await self.websocket.connect(scope, receive, send)
            else:
                await send({"type": "websocket.close", "code": 1008})
            return
        surfaces = (
            (MEDIA_PREFIX, self.media),
            (S3_PREFIX, self.s3),
            (WEB_PREFIX, self.web),
            (MAIL_PREFIX, self.mail),
            (REKOGNITION_PREFIX, self.rekognition),
            (MODERATORS_PREFIX, self.moderators),
            (PUSH_PREFIX, self.push),
        )
        for prefix, app in surfaces:
            if app is not None and (path == prefix or path.startswith(prefix + "/")):
                await app(_under(scope, prefix), receive, send)
                return
        if path.startswith(MANAGEMENT_PREFIX + "/") and self.websocket is not None:
            await self.websocket.management(_under(scope, MANAGEMENT_PREFIX), receive, send)
            return
        if self.http is None:
            await error_response(404, "not_found", "This template has no HTTP API.")(scope, receive, send)
            return
        await self.http(scope, receive, send)


def _under(scope: Scope, prefix: str) -> Scope:
    return {**scope, "root_path": scope.get("root_path", "") + prefix}
