"""The PynamoDB models are the schema's source of truth: every table in the template must match its model.
A new model is checked by adding it to TABLES."""

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from pynamodb.models import Model

from pinhole.feed.dal import FeedModel
from pinhole.graph.dal import EdgeModel
from pinhole.messaging.dal import MessagingModel
from pinhole.moderation.dal import ModerationModel
from pinhole.notifications.dal import NotificationModel
from pinhole.posts.dal import PostModel
from pinhole.privacy.dal import PrivacyModel
from pinhole.realtime.dal import ConnectionModel
from pinhole.search.dal import SearchModel
from pinhole.shared.rate_limits import RateCounterModel
from pinhole.social.dal import InteractionModel
from pinhole.users.dal import UserModel
from stacks import constants

# (model, construct path of its table in the stateful stack)
TABLES: list[tuple[type[Model], str]] = [
    (UserModel, f"{constants.USERS_DATA_CONSTRUCT_ID}/{constants.USERS_TABLE_ID}/Resource"),
    (PostModel, f"{constants.POSTS_DATA_CONSTRUCT_ID}/{constants.POSTS_TABLE_ID}/Resource"),
    (EdgeModel, f"{constants.GRAPH_DATA_CONSTRUCT_ID}/{constants.GRAPH_TABLE_ID}/Resource"),
    (FeedModel, f"{constants.FEED_DATA_CONSTRUCT_ID}/{constants.FEEDS_TABLE_ID}/Resource"),
    (InteractionModel, f"{constants.SOCIAL_DATA_CONSTRUCT_ID}/{constants.INTERACTIONS_TABLE_ID}/Resource"),
    (NotificationModel, f"{constants.NOTIFICATIONS_DATA_CONSTRUCT_ID}/{constants.NOTIFICATIONS_TABLE_ID}/Resource"),
    (MessagingModel, f"{constants.MESSAGING_DATA_CONSTRUCT_ID}/{constants.MESSAGES_TABLE_ID}/Resource"),
    (ConnectionModel, f"{constants.MESSAGING_DATA_CONSTRUCT_ID}/{constants.CONNECTIONS_TABLE_ID}/Resource"),
    (RateCounterModel, f"{constants.RATE_LIMITS_DATA_CONSTRUCT_ID}/{constants.RATE_LIMITS_TABLE_ID}/Resource"),
    (SearchModel, f"{constants.SEARCH_DATA_CONSTRUCT_ID}/{constants.SEARCH_TABLE_ID}/Resource"),
    (ModerationModel, f"{constants.MODERATION_DATA_CONSTRUCT_ID}/{constants.MODERATION_TABLE_ID}/Resource"),
    (PrivacyModel, f"{constants.PRIVACY_DATA_CONSTRUCT_ID}/{constants.PRIVACY_TABLE_ID}/Resource"),
]


def _key_schema(keys: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    return {key["KeyType"]: key["AttributeName"] for key in keys}


def _model_schema(model: type[Model]) -> dict[str, Any]:
    schema = model._get_schema()
    return {
        "attributes": {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]},
        "keys": _key_schema(schema["key_schema"]),
        "indexes": {
            index["index_name"]: {
                "keys": _key_schema(index["key_schema"]),
                "projection": index["projection"]["ProjectionType"],
                "non_key_attributes": sorted(index["projection"].get("NonKeyAttributes", [])),
            }
            for index in schema["global_secondary_indexes"]
        },
        "stream": getattr(model.Meta, "stream_view_type", None),
    }


def _template_schema(table: dict[str, Any]) -> dict[str, Any]:
    props = table["Properties"]
    return {
        "attributes": {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]},
        "keys": _key_schema(props["KeySchema"]),
        "indexes": {
            index["IndexName"]: {
                "keys": _key_schema(index["KeySchema"]),
                "projection": index["Projection"]["ProjectionType"],
                "non_key_attributes": sorted(index["Projection"].get("NonKeyAttributes", [])),
            }
            for index in props.get("GlobalSecondaryIndexes", [])
        },
        "stream": props.get("StreamSpecification", {}).get("StreamViewType"),
    }


@pytest.mark.parametrize(("model", "construct_path"), TABLES, ids=[model.__name__ for model, _ in TABLES])
def test_table_schema_matches_model(cloud_assembly, model: type[Model], construct_path: str) -> None:
    # Given the table synthesized for the model
    _, table = cloud_assembly.resource_at(constants.STATEFUL_STACK_ID, construct_path)

    # When both schemas are put in the same shape
    expected, actual = _model_schema(model), _template_schema(table)

    # Then keys, attribute types, indexes (keys and projection) and the stream view type agree
    assert actual == expected


def test_every_table_is_checked_against_a_model(cloud_assembly) -> None:
    # Given every DynamoDB table in the stateful stack
    tables = {
        resource["Metadata"]["aws:cdk:path"]
        for kind in ("AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table")
        for resource in cloud_assembly.resources(constants.STATEFUL_STACK_ID, kind).values()
    }

    # When compared with the tables that have a model in TABLES (and Powertools' own, checked below)
    checked = {f"{constants.STATEFUL_STACK_ID}/{path}" for _, path in TABLES} | {IDEMPOTENCY_TABLE}

    # Then none is left unchecked
    assert tables == checked


IDEMPOTENCY_TABLE = (
    f"{constants.STATEFUL_STACK_ID}/{constants.IDEMPOTENCY_DATA_CONSTRUCT_ID}/{constants.IDEMPOTENCY_TABLE_ID}/Resource"
)


def test_idempotency_table_has_the_schema_powertools_writes(cloud_assembly) -> None:
    # Given the table behind Idempotency-Key (Powertools' DynamoDBPersistenceLayer defaults)
    _, table = cloud_assembly.resource_at(constants.STATEFUL_STACK_ID, IDEMPOTENCY_TABLE.split("/", 1)[1])
    props = table["Properties"]

    # Then it is keyed by `id` alone and expires records by `expiration`
    assert props["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}


def test_tables_bill_per_request(cloud_assembly) -> None:
    # Given every table of the stateful stack (retention, recovery and deletion protection: test_guarantees.py)
    tables = cloud_assembly.resources(constants.STATEFUL_STACK_ID, "AWS::DynamoDB::GlobalTable")
    assert tables

    for logical_id, table in tables.items():
        # Then it is on-demand: no capacity to plan, no throttling at a provisioned ceiling
        assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST", logical_id
