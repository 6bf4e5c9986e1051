"""The search index's table; its shape is pinhole.search.dal.SearchModel's (tests/infrastructure proves it).
No stream, no index, no TTL: the index is derived data, written by the search stream consumer only."""

from constructs import Construct

from stacks import constants
from stacks.stateful.tables import pinhole_table


class SearchData(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = pinhole_table(self, constants.SEARCH_TABLE_ID, partition_key="pk", sort_key="sk")
