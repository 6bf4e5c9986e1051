"""Decides each AWS call of a function against its role's policies, and makes a refusal look like AWS's.

`install()` wraps botocore's `BaseClient._make_api_call` once per process: a call made while an identity is
set (local.iam.identity) is mapped to its IAM action(s) and resource(s) and evaluated; a denied call raises
the ClientError AWS would send (HTTP 403, the service's error code, AWS's message) before any request is
made, whatever the transport behind the client. `RequestSigner.get_auth_instance` is wrapped too, so a
function signs (pre-signed POSTs included) with its own access key, naming it as the signer.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient
from botocore.credentials import ReadOnlyCredentials
from botocore.signers import RequestSigner

from local.iam.context import global_context, normalized
from local.iam.evaluator import Decision, Request, Statement, evaluate
from local.iam.identity import Identity, current_identity, inherit_identity_in_threads
from local.iam.operations import Access, Lookups, UnknownOperation, accesses_of, websocket_api_from_aws_url
from local.iam.policies import PolicyStore, role_arn
from local.template import ACCOUNT_ID, REGION

log = logging.getLogger("local.iam")
DENIED_MARKER = "local IAM enforcement denied"

# The error code each service answers an IAM refusal with (botocore raises the matching modeled class).
ACCESS_DENIED_CODES: dict[str, str] = {
    "dynamodb": "AccessDeniedException",
    "dynamodbstreams": "AccessDeniedException",
    "cognito-idp": "AccessDeniedException",
    "secretsmanager": "AccessDeniedException",
    "s3": "AccessDenied",
    "cloudfront": "AccessDenied",
    "sqs": "AccessDenied",  # JSON protocol, query-compatible: x-amzn-query-error "AccessDenied;Sender"
    "apigatewaymanagementapi": "ForbiddenException",
    "sns": "AuthorizationError",
    "ssm": "AccessDeniedException",
    "rekognition": "AccessDeniedException",
}


@dataclass(frozen=True)
class Denial:
    service: str
    message: str

    @property
    def code(self) -> str:
        return ACCESS_DENIED_CODES.get(self.service, "AccessDeniedException")

    def response(self) -> dict[str, Any]:
        request_id = str(uuid.uuid4())
        error: dict[str, str] = {"Code": self.code, "Message": self.message}
        if self.service == "sqs":
            error["Type"] = "Sender"
        return {
            "Error": error,
            "ResponseMetadata": {
                "RequestId": request_id,
                "HTTPStatusCode": 403,
                "HTTPHeaders": {"x-amzn-requestid": request_id, "content-type": "application/x-amz-json-1.0"},
                "RetryAttempts": 0,
            },
        }

    def client_error(self, client: BaseClient, operation_name: str) -> Exception:
        error_class = client.exceptions.from_code(self.code)
        return error_class(self.response(), operation_name)


def denied_message(identity: Identity, action: str, resource: str, decision: Decision, service: str = "") -> str:
    # SQS spells the action in lower case in its messages.
    shown = action.lower() if service == "sqs" else action
    why = (
        f"because no identity-based policy allows the {shown} action"
        if decision is Decision.IMPLICIT_DENY
        else f"with an {decision.value}"
    )
    return f"User: {identity.session_arn} is not authorized to perform: {shown} on resource: {resource} {why}"


class TemplateLookups:
    """What the operation mapper cannot read from a call's parameters."""

    def __init__(
        self,
        secret_arns: Mapping[str, str] | None = None,
        websocket_endpoints: Mapping[str, tuple[str, str]] | None = None,
        describe_secret: Callable[[str], str] | None = None,
    ) -> None:
        self.region = REGION
        self.account = ACCOUNT_ID
        self._secret_arns = dict(secret_arns or {})
        # local @connections endpoint URL -> (api id, its stage, for URLs that do not name one)
        self._websocket_endpoints = dict(websocket_endpoints or {})
        self._describe_secret = describe_secret

    def secret_arn(self, secret_id: str) -> str:
        if secret_id.startswith("arn:"):
            return secret_id
        if secret_id not in self._secret_arns and self._describe_secret is not None:
            self._secret_arns[secret_id] = self._describe_secret(secret_id)
        if secret_id not in self._secret_arns:
            raise UnknownOperation(f"secretsmanager: the ARN of secret {secret_id!r} is unknown")
        return self._secret_arns[secret_id]

    def websocket_api(self, endpoint_url: str) -> tuple[str, str]:
        from_aws = websocket_api_from_aws_url(endpoint_url)
        if from_aws is not None:
            return from_aws
        for prefix, (api_id, stage) in self._websocket_endpoints.items():
            if endpoint_url.startswith(prefix):
                named = endpoint_url.removeprefix(prefix).strip("/").split("/")[0]
                return api_id, named or stage
        raise UnknownOperation(f"apigatewaymanagementapi: no WebSocket API is served at {endpoint_url}")


class Authorizer:
    """The template's policies, a decision cache, and the identities of the template's functions."""

    def __init__(self, store: PolicyStore, lookups: Lookups) -> None:
        self.store = store
        self.lookups = lookups
        self._decisions: dict[tuple[str, str, str, tuple[tuple[str, tuple[str, ...]], ...]], Decision] = {}
        self._global: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()
        self.identities_by_access_key: dict[str, Identity] = {}
        self.denials: list[str] = []

    def identity(self, function_name: str, role: str) -> Identity:
        """The role session a function's code runs as (`role` is the role's ARN)."""
        if not role.startswith(f"arn:aws:iam::{ACCOUNT_ID}:role/"):
            raise ValueError(f"{function_name}: {role!r} is not a role of account {ACCOUNT_ID}")
        identity = Identity(function_name, role.rsplit("/", 1)[1], ACCOUNT_ID, self)
        self.identities_by_access_key[identity.access_key_id] = identity
        return identity

    def decide(self, identity: Identity, access: Access) -> Decision:
        key = (identity.role_arn, access.action, access.resource, normalized(access.context))
        decision = self._decisions.get(key)
        if decision is None:
            decision = self._evaluate(identity, access)
            with self._lock:
                self._decisions[key] = decision
        return decision

    def _evaluate(self, identity: Identity, access: Access) -> Decision:
        base = self._global.get(identity.role_arn)
        if base is None:
            base = global_context(identity.role_arn, ACCOUNT_ID, REGION, identity.role_id, identity.function_name)
            self._global[identity.role_arn] = base
        context = dict(normalized({**base, **access.context}))
        request = Request(access.action, access.resource, context)
        resource_statements: tuple[Statement, ...] = self.store.resource_statements(access.resource)
        return evaluate(
            request,
            self.store.identity_statements(identity.role_arn),
            resource_statements,
            principal_arns=(identity.role_arn, identity.session_arn),
            account=ACCOUNT_ID,
        )

    def check(self, identity: Identity, service: str, accesses: list[Access]) -> Denial | None:
        for access in accesses:
            decision = self.decide(identity, access)
            if not decision.allowed:
                return self._denied(
                    service, denied_message(identity, access.action, access.resource, decision, service)
                )
        return None

    def check_call(
        self, identity: Identity, service: str, operation: str, params: Mapping[str, Any], endpoint_url: str
    ) -> Denial | None:
        try:
            accesses = accesses_of(service, operation, params, self.lookups, endpoint_url)
        except UnknownOperation as gap:
            return self._denied(
                service,
                f"User: {identity.session_arn} is not authorized to perform: {service}.{operation} because local IAM "
                f"enforcement does not know how AWS authorizes it ({gap}): teach local/iam/operations.py",
            )
        return None if accesses is None else self.check(identity, service, accesses)

    def _denied(self, service: str, message: str) -> Denial:
        log.error("%s: %s", DENIED_MARKER, message)
        with self._lock:
            self.denials.append(message)
        return Denial(service, message)


def _make_api_call_as_the_caller(original: Callable[..., Any]) -> Callable[..., Any]:
    def _make_api_call(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        identity = current_identity()
        if identity is not None:
            denial = identity.authorizer.check_call(
                identity, self.meta.service_model.service_name, operation_name, api_params, self.meta.endpoint_url
            )
            if denial is not None:
                raise denial.client_error(self, operation_name)
        return original(self, operation_name, api_params)

    return _make_api_call


def _signed_by_the_caller(original: Callable[..., Any]) -> Callable[..., Any]:
    def get_auth_instance(self: RequestSigner, *args: Any, **kwargs: Any) -> Any:
        identity = current_identity()
        if identity is not None and kwargs.get("request_credentials") is None:
            kwargs["request_credentials"] = _FrozenCredentials(identity)
        return original(self, *args, **kwargs)

    return get_auth_instance


class _FrozenCredentials:
    def __init__(self, identity: Identity) -> None:
        self._frozen = ReadOnlyCredentials(identity.access_key_id, identity.secret_access_key, None)

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        return self._frozen


_install_lock = threading.Lock()
_installed = False


def install() -> None:
    """Enforce on every botocore client of this process (once). Calls without an identity are not checked,
    so installing it changes nothing for the local cloud itself or for tests' own calls. Install it before
    anything else wraps these methods (tests/conftest.py does, at import), so a later wrapper that is undone
    (a test's monkeypatch) leaves it in place."""
    global _installed
    inherit_identity_in_threads()
    with _install_lock:
        if _installed:
            return
        BaseClient._make_api_call = _make_api_call_as_the_caller(BaseClient._make_api_call)
        RequestSigner.get_auth_instance = _signed_by_the_caller(RequestSigner.get_auth_instance)
        RequestSigner.get_auth = RequestSigner.get_auth_instance
        _installed = True


def authorizer_for(store: PolicyStore, lookups: Lookups) -> Authorizer:
    install()
    return Authorizer(store, lookups)


__all__ = ["Authorizer", "Denial", "TemplateLookups", "authorizer_for", "install", "role_arn"]
