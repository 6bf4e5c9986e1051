"""Stories in the templates: the posts table expires them with the TTL attribute PostModel declares, and
only the functions that pull or backfill stories may query the stories index."""

import json
from typing import Any

from pynamodb.attributes import TTLAttribute

from pinhole.posts.dal import PostModel
from stacks import constants
from stacks.stateful.posts_construct import STORIES_BY_AUTHOR_INDEX

POSTS_TABLE = f"{constants.POSTS_DATA_CONSTRUCT_ID}/{constants.POSTS_TABLE_ID}/Resource"


def test_posts_table_expires_items_by_the_models_ttl_attribute(cloud_assembly) -> None:
    # Given the posts table and the model's TTL attribute
    _, table = cloud_assembly.resource_at(constants.STATEFUL_STACK_ID, POSTS_TABLE)
    (ttl,) = [
        attribute.attr_name for attribute in PostModel.get_attributes().values() if isinstance(attribute, TTLAttribute)
    ]

    # Then the table's TTL is on, on that attribute, and the stories index is there
    assert table["Properties"]["TimeToLiveSpecification"] == {"AttributeName": ttl, "Enabled": True}
    indexes = {index["IndexName"] for index in table["Properties"]["GlobalSecondaryIndexes"]}
    assert STORIES_BY_AUTHOR_INDEX in indexes


def _services_querying(stateless: dict[str, Any], index_name: str) -> set[str]:
    """The context (service name) of every function whose role may query the index."""
    roles = {
        role["Ref"]
        for resource in stateless["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy"
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        if f"/index/{index_name}" in json.dumps(statement["Resource"])
        for role in resource["Properties"]["Roles"]
    }
    return {
        resource["Properties"]["Environment"]["Variables"][constants.ENV_SERVICE_NAME]
        for resource in stateless["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function" and resource["Properties"]["Role"]["Fn::GetAtt"][0] in roles
    }


def test_only_the_feed_functions_query_the_stories_index(stateless) -> None:
    # The stories feed pulls celebrities' stories from it; the fan-out backfills a new follower from it
    assert _services_querying(stateless, STORIES_BY_AUTHOR_INDEX) == {constants.FEED_READ, constants.FEED_FANOUT}
