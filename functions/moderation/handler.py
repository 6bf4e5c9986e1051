"""Lambda entry point of the moderation context: reports (anyone signed in), and the moderators' queue, cases,
actions and audit log (the `moderators` Cognito group only: 403 for everyone else)."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.moderation import logic
from pinhole.moderation.models import (
    ActionRequest,
    Case,
    CaseDetail,
    CaseStatus,
    LogEntry,
    MyReport,
    ReportReceipt,
    ReportRequest,
)
from pinhole.shared.api import BEARER_AUTH, Cursor, Limit, Page, apply_api_conventions, current_caller, token_groups
from pinhole.shared.caller import MODERATORS_GROUP
from pinhole.shared.errors import Forbidden
from pinhole.shared.observability import logger, metrics, tracer

app = APIGatewayHttpResolver(enable_validation=True)


def _moderators_only() -> None:
    """Every route under /moderation/ is the moderators': anyone else is refused before what they sent is read, by
    the token's groups (the route then reads the caller in full: suspension, sign-out)."""
    if app.current_event.path.startswith("/moderation/"):
        claims = app.current_event.request_context.authorizer.jwt_claim or {}
        if MODERATORS_GROUP not in token_groups(claims.get("cognito:groups")):
            raise Forbidden("Only moderators can do this.")


apply_api_conventions(app, admitted=_moderators_only)
moderator = logic.Moderator()

CaseId = Annotated[str, Path(pattern=r"^[0-9a-f]{24}$", description="A case id from the queue")]


@app.post(
    "/reports",
    summary="Report a post, comment, story, user or message you can see (a repeat answers 200 with the first)",
    tags=["moderation"],
    security=BEARER_AUTH,
    status_code=202,
    responses={
        202: {"description": "Reported", "content": {"application/json": {"model": ReportReceipt}}},
        200: {
            "description": "Reported already: your open report",
            "content": {"application/json": {"model": ReportReceipt}},
        },
    },
)
@tracer.capture_method
def file_report(request: Annotated[ReportRequest, Body()]) -> Response[ReportReceipt]:
    receipt, created = logic.file_report(current_caller(app), request)
    if created:
        metrics.add_metric(name="ReportsFiled", unit="Count", value=1)
    return Response(
        status_code=HTTPStatus.ACCEPTED if created else HTTPStatus.OK,
        content_type=content_types.APPLICATION_JSON,
        body=receipt,
    )


@app.get(
    "/me/reports",
    summary="Your reports and what became of them, newest first",
    tags=["moderation"],
    security=BEARER_AUTH,
)
@tracer.capture_method
def my_reports(limit: Limit = 20, cursor: Cursor = None) -> Page[MyReport]:
    items, next_cursor = logic.my_reports(current_caller(app), limit, cursor)
    return Page[MyReport](items=items, next_cursor=next_cursor)


@app.get(
    "/moderation/queue",
    summary="Open cases, most severe first, then most reported (moderators only)",
    tags=["moderation"],
    security=BEARER_AUTH,
)
@tracer.capture_method
def moderation_queue(
    limit: Limit = 20,
    cursor: Cursor = None,
    status: Annotated[CaseStatus, Query(description="open (the default), actioned or dismissed")] = CaseStatus.OPEN,
) -> Page[Case]:
    items, next_cursor = logic.queue(current_caller(app), limit, cursor, status)
    return Page[Case](items=items, next_cursor=next_cursor)


@app.get(
    "/moderation/cases/<case_id>",
    summary="A case: its target as it is (even removed) and its reports (moderators only)",
    tags=["moderation"],
    security=BEARER_AUTH,
)
@tracer.capture_method
def moderation_case(case_id: CaseId) -> CaseDetail:
    return logic.case_detail(current_caller(app), case_id)


@app.post(
    "/moderation/cases/<case_id>/actions",
    summary="Remove, restore, dismiss, suspend or unsuspend (moderators only; logged)",
    tags=["moderation"],
    security=BEARER_AUTH,
)
@tracer.capture_method
def moderation_action(case_id: CaseId, request: Annotated[ActionRequest, Body()]) -> CaseDetail:
    detail = moderator.act(current_caller(app), case_id, request)
    metrics.add_metric(name=f"Moderation{request.action.value.title().replace('_', '')}", unit="Count", value=1)
    return detail


@app.get(
    "/moderation/log",
    summary="The audit log: who did what, when and why, newest first (moderators only)",
    tags=["moderation"],
    security=BEARER_AUTH,
)
@tracer.capture_method
def moderation_log(limit: Limit = 20, cursor: Cursor = None) -> Page[LogEntry]:
    items, next_cursor = logic.moderation_log(current_caller(app), limit, cursor)
    return Page[LogEntry](items=items, next_cursor=next_cursor)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
