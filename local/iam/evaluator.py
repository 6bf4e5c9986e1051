"""AWS's policy evaluation logic for one account, for the policies a Pinhole template holds.

Follows https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html for a
request made by a role session to a resource of the same account: an explicit Deny in any policy wins; else
an Allow in an identity-based policy or in the resource's policy (naming the principal) allows; else the
request is implicitly denied. Statements match on Action/NotAction, Resource/NotResource (`*` and `?`
wildcards, actions case-insensitive), Principal (resource policies) and Condition.

Anything this evaluator does not model is refused when the policy is parsed, never silently allowed:
condition operators outside `OPERATORS`, condition keys outside `local.iam.context.MODELLED_KEYS`, policy
variables, NotPrincipal. No well-kept Python library evaluates IAM policies with conditions (the maintained
simulator is TypeScript, @cloud-copilot/iam-simulate; principalmapper's simulator is unmaintained since
2022; moto's IAM enforcement ignores conditions and most resources), hence this small one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

from local.iam.context import MODELLED_KEYS

Context = Mapping[str, tuple[str, ...]]  # lower-cased key -> values


class PolicyNotUnderstood(Exception):
    """A policy uses something local IAM enforcement does not model: refused loudly, never ignored."""


class Decision(Enum):
    ALLOW = "allow"
    IMPLICIT_DENY = "implicit deny"
    IDENTITY_DENY = "explicit deny in an identity-based policy"
    RESOURCE_DENY = "explicit deny in a resource-based policy"

    @property
    def allowed(self) -> bool:
        return self is Decision.ALLOW


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: Context


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def glob_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return _glob(pattern, ignore_case).fullmatch(value) is not None


def arn_match(pattern: str, value: str) -> bool:
    """ArnLike: each of the six colon-separated parts matched on its own (the last may hold colons)."""
    pattern_parts, value_parts = pattern.split(":", 5), value.split(":", 5)
    if len(pattern_parts) != 6 or len(value_parts) != 6:
        return False
    return all(glob_match(p, v) for p, v in zip(pattern_parts, value_parts, strict=True))


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


# -- conditions --

_Match = Callable[[str, str], bool]


def _numeric(compare: Callable[[float, float], bool]) -> _Match:
    def match(context_value: str, policy_value: str) -> bool:
        try:
            return compare(float(context_value), float(policy_value))
        except ValueError:
            return False

    return match


# Base operators: (match one context value against one policy value, negated?)
OPERATORS: dict[str, tuple[_Match, bool]] = {
    "StringEquals": (lambda c, p: c == p, False),
    "StringNotEquals": (lambda c, p: c == p, True),
    "StringEqualsIgnoreCase": (lambda c, p: c.lower() == p.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda c, p: c.lower() == p.lower(), True),
    "StringLike": (lambda c, p: glob_match(p, c), False),
    "StringNotLike": (lambda c, p: glob_match(p, c), True),
    "NumericEquals": (_numeric(lambda c, p: c == p), False),
    "NumericNotEquals": (_numeric(lambda c, p: c == p), True),
    "NumericLessThan": (_numeric(lambda c, p: c < p), False),
    "NumericLessThanEquals": (_numeric(lambda c, p: c <= p), False),
    "NumericGreaterThan": (_numeric(lambda c, p: c > p), False),
    "NumericGreaterThanEquals": (_numeric(lambda c, p: c >= p), False),
    "Bool": (lambda c, p: c.lower() == p.lower(), False),
    "ArnEquals": (lambda c, p: arn_match(p, c), False),
    "ArnLike": (lambda c, p: arn_match(p, c), False),
    "ArnNotEquals": (lambda c, p: arn_match(p, c), True),
    "ArnNotLike": (lambda c, p: arn_match(p, c), True),
}
_SET_QUALIFIERS = ("ForAllValues:", "ForAnyValue:")


@dataclass(frozen=True)
class Condition:
    """One operator on one key with its values (a Condition block is the AND of these)."""

    operator: str
    key: str  # lower-cased
    values: tuple[str, ...]

    @classmethod
    def parse(cls, operator: str, key: str, values: Any) -> Condition:
        base = operator
        for qualifier in _SET_QUALIFIERS:
            base = base.removeprefix(qualifier)
        base = base.removesuffix("IfExists")
        if base not in OPERATORS and base != "Null":
            raise PolicyNotUnderstood(f"condition operator {operator!r} is not modelled by local IAM enforcement")
        if key.lower() not in MODELLED_KEYS:
            raise PolicyNotUnderstood(
                f"condition key {key!r} is not modelled by local IAM enforcement (local/iam/context.py)"
            )
        rendered = tuple(_condition_value(value) for value in _as_list(values))
        if any("${" in value for value in rendered):
            raise PolicyNotUnderstood(f"policy variables in condition values are not modelled: {values!r}")
        return cls(operator, key.lower(), rendered)

    def holds(self, context: Context) -> bool:
        operator = self.operator
        qualifier = next((q for q in _SET_QUALIFIERS if operator.startswith(q)), "")
        operator = operator.removeprefix(qualifier)
        if_exists = operator.endswith("IfExists")
        operator = operator.removesuffix("IfExists")
        present = context.get(self.key)
        if operator == "Null":
            wants_absent = self.values[0].lower() == "true"
            return (present is None) == wants_absent
        if present is None:
            # Absent key: false for matching operators, true for negated ones; IfExists and ForAllValues pass.
            if if_exists or qualifier == "ForAllValues:":
                return True
            return OPERATORS[operator][1] and qualifier != "ForAnyValue:"
        match, negated = OPERATORS[operator]

        def accepted(context_value: str) -> bool:
            matched = any(match(context_value, policy_value) for policy_value in self.values)
            return not matched if negated else matched

        if qualifier == "ForAllValues:":
            return all(accepted(value) for value in present)
        if qualifier == "ForAnyValue:":
            return any(accepted(value) for value in present)
        # A negated operator with several policy values is their NOR: every context value must pass.
        return all(accepted(value) for value in present) if negated else any(accepted(value) for value in present)


def _condition_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise PolicyNotUnderstood(f"condition value {value!r} is not a string, number or boolean")


# -- statements and policies --


@dataclass(frozen=True)
class Principal:
    """Who a resource-based policy statement names; role sessions match `*`, the account, the role or the
    session, never a service or federated principal."""

    anyone: bool
    aws: tuple[str, ...]

    @classmethod
    def parse(cls, element: Any) -> Principal:
        if element == "*":
            return cls(True, ())
        if not isinstance(element, dict):
            raise PolicyNotUnderstood(f"Principal {element!r} is not modelled")
        aws = tuple(str(value) for value in _as_list(element.get("AWS", [])))
        unknown = set(element) - {"AWS", "Service", "Federated", "CanonicalUser"}
        if unknown:
            raise PolicyNotUnderstood(f"Principal element(s) {sorted(unknown)} are not modelled")
        return cls("*" in aws, tuple(value for value in aws if value != "*"))

    def names(self, principal_arns: Sequence[str], account: str) -> bool:
        if self.anyone:
            return True
        account_forms = {account, f"arn:aws:iam::{account}:root"}
        return any(value in account_forms or value in principal_arns for value in self.aws)


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    conditions: tuple[Condition, ...]
    principal: Principal | None  # None: an identity-based policy's statement
    origin: str  # which policy, for messages

    @classmethod
    def parse(cls, body: Mapping[str, Any], origin: str, resource_policy: bool) -> Statement:
        known = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition", "Principal"}
        unknown = set(body) - known
        if unknown:
            raise PolicyNotUnderstood(f"{origin}: statement element(s) {sorted(unknown)} are not modelled")
        effect = body.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise PolicyNotUnderstood(f"{origin}: Effect {effect!r}")
        if ("Action" in body) == ("NotAction" in body):
            raise PolicyNotUnderstood(f"{origin}: a statement needs exactly one of Action and NotAction")
        if ("Resource" in body) == ("NotResource" in body):
            raise PolicyNotUnderstood(f"{origin}: a statement needs exactly one of Resource and NotResource")
        if resource_policy and "Principal" not in body:
            raise PolicyNotUnderstood(f"{origin}: a resource-based policy statement needs a Principal")
        resources = tuple(str(value) for value in _as_list(body.get("Resource", [])))
        not_resources = tuple(str(value) for value in _as_list(body.get("NotResource", [])))
        for pattern in resources + not_resources:
            if "${" in pattern:
                raise PolicyNotUnderstood(f"{origin}: policy variables in resources are not modelled: {pattern}")
        conditions = tuple(
            Condition.parse(operator, key, values)
            for operator, pairs in (body.get("Condition") or {}).items()
            for key, values in pairs.items()
        )
        return cls(
            effect=effect,
            actions=tuple(str(value) for value in _as_list(body.get("Action", []))),
            not_actions=tuple(str(value) for value in _as_list(body.get("NotAction", []))),
            resources=resources,
            not_resources=not_resources,
            conditions=conditions,
            principal=Principal.parse(body["Principal"]) if "Principal" in body else None,
            origin=origin,
        )

    def applies_to(self, request: Request, principal_arns: Sequence[str], account: str) -> bool:
        if self.actions:
            if not any(glob_match(pattern, request.action, ignore_case=True) for pattern in self.actions):
                return False
        elif any(glob_match(pattern, request.action, ignore_case=True) for pattern in self.not_actions):
            return False
        if self.resources:
            if not any(glob_match(pattern, request.resource) for pattern in self.resources):
                return False
        elif any(glob_match(pattern, request.resource) for pattern in self.not_resources):
            return False
        if self.principal is not None and not self.principal.names(principal_arns, account):
            return False
        return all(condition.holds(request.context) for condition in self.conditions)


def parse_policy(document: Mapping[str, Any], origin: str, resource_policy: bool = False) -> tuple[Statement, ...]:
    if "NotPrincipal" in str(document):
        raise PolicyNotUnderstood(f"{origin}: NotPrincipal is not modelled")
    statements = document.get("Statement", [])
    return tuple(
        Statement.parse(body, f"{origin}[{index}]", resource_policy)
        for index, body in enumerate(_as_list(statements))
        if not (resource_policy and _names_only_services(body))
    )


def _names_only_services(body: Mapping[str, Any]) -> bool:
    """A resource-policy statement for AWS services alone (log delivery, CloudFront OAC) never applies to a
    function's role session, whatever its conditions say: it is left out before its conditions are parsed."""
    principal = body.get("Principal")
    return isinstance(principal, Mapping) and set(principal) == {"Service"}


def evaluate(
    request: Request,
    identity_statements: Iterable[Statement],
    resource_statements: Iterable[Statement] = (),
    principal_arns: Sequence[str] = (),
    account: str = "",
) -> Decision:
    """Same-account evaluation: Deny anywhere wins; an Allow in either kind of policy allows."""
    allowed = False
    for statement in identity_statements:
        if statement.applies_to(request, principal_arns, account):
            if statement.effect == "Deny":
                return Decision.IDENTITY_DENY
            allowed = True
    for statement in resource_statements:
        if statement.applies_to(request, principal_arns, account):
            if statement.effect == "Deny":
                return Decision.RESOURCE_DENY
            allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY
