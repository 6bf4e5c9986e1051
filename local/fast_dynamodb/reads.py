"""Query and Scan on a FastTable: moto's results, read from the sorted partitions instead of sorting
(and, for an index, scanning) the whole table.

moto's `Table.query` (models/table.py) collects every item of the table that could match, sorts them,
then walks them: skipping up to the ExclusiveStartKey, stopping at the Limit or at 1 MB, keeping
those whose range key satisfies the condition. The walk below is that same loop, over the queried
partition only (already in moto's order) and starting where moto's walk would first keep something:
- after the ExclusiveStartKey (a bisect, when its types are the partition's);
- at the first item the key condition can hold for (=, <, <=, >, >=, BETWEEN, begins_with are ranges
  in that order), and it stops at the first item after them, where moto would walk on only to check
  its 1 MB limit, which no further item can reach while the page holds less than 1 MB - 405 KB
  (the largest item moto stores).
Anything else (a start key or a value of another type, a mixed-type index partition, composite index
keys, legacy QueryFilter) walks moto's way over the same sorted candidates or falls back to moto's
own method, so errors are moto's too. Results are the stored Items, not copies (they are never
changed: see storage.py). Scan walks the partitions in order the same way; index Scans are moto's."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, GlobalSecondaryIndex, Table
from moto.dynamodb.responses import DynamoHandler

from local.fast_dynamodb import consistency
from local.fast_dynamodb.items import ITEM_SIZE_LIMIT
from local.fast_dynamodb.ordering import Ordering, Partition, SortKey, Unordered, sort_value
from local.fast_dynamodb.storage import FastTable

Page = tuple[list[Item], int, dict[str, Any] | None]
RANGE_OPERATORS = frozenset({"=", "EQ", "<", "<=", ">", ">=", "BETWEEN", "BEGINS_WITH"})
MOTOS_CONTAINS_DUPLICATES = DynamoHandler._contains_duplicates


def query(
    table: FastTable,
    hash_key: DynamoType | None,
    range_comparison: str | None,
    range_objs: list[DynamoType],
    limit: int,
    exclusive_start_key: dict[str, Any],
    scan_index_forward: bool,
    projection_expressions: list[list[str]] | None,
    index_name: str | None = None,
    consistent_read: bool = False,
    filter_expression: Any = None,
    hash_key_conditions: list[tuple[str, DynamoType]] | None = None,
    range_key_conditions: list[tuple[str, str, list[DynamoType]]] | None = None,
    **filter_kwargs: Any,
) -> Page:
    def moto() -> Page:
        return Table.query(
            table,
            hash_key,
            range_comparison,
            range_objs,
            limit,
            exclusive_start_key,
            scan_index_forward,
            projection_expressions,
            index_name,
            consistent_read,
            filter_expression,
            hash_key_conditions=hash_key_conditions,
            range_key_conditions=range_key_conditions,
            **filter_kwargs,
        )

    if filter_kwargs or (range_key_conditions and len(range_key_conditions) > 1):
        return moto()
    compared = range_key_conditions[-1][0] if range_key_conditions else None
    if index_name:
        candidates = _index_candidates(
            table, index_name, consistent_read, hash_key_conditions, compared, range_comparison
        )
    else:
        candidates = _table_candidates(table, hash_key, compared, range_comparison)
    if candidates is None:
        return moto()
    ordering, hash_attrs, range_attrs, compared_attr, ordered, unordered = candidates
    if ordered is None:
        items = table.sorted_items(hash_attrs, range_attrs, list(unordered))
        keys = None
    else:
        keys, items = ordered
    results, scanned_count, last_evaluated_key = _walk(
        table,
        ordering,
        keys,
        items,
        hash_attrs,
        range_attrs,
        compared_attr,
        index_name,
        range_comparison,
        range_objs,
        limit,
        exclusive_start_key,
        scan_index_forward,
    )
    if index_name:
        index = table.get_index(index_name)
        results = [index.project(result) for result in results]
    if filter_expression is not None:
        results = [item for item in results if filter_expression.expr(item)]
    if projection_expressions:
        results = [result.project(projection_expressions) for result in results]
    return results, scanned_count, last_evaluated_key


Candidates = tuple[
    Ordering,
    list[str],
    list[str | None],
    str | None,
    tuple[list[SortKey], list[Item]] | None,
    Iterable[Item],
]


def _table_candidates(
    table: FastTable, hash_key: DynamoType | None, compared: str | None, range_comparison: str | None
) -> Candidates | None:
    if hash_key is None:
        return None
    if range_comparison and (table.range_key_attr is None or compared not in (None, table.range_key_attr)):
        return None
    hash_attrs: list[str] = [table.hash_key_attr]
    range_attrs: list[str | None] = [table.range_key_attr]
    ordering = table._base_ordering
    if table.range_key_attr is None:
        stored: dict[Any, Any] = table.items
        item: Item | None = stored.get(hash_key)
        found = [item] if item is not None else []
        keys = [ordering.key(entry) for entry in found]
        return ordering, hash_attrs, range_attrs, compared, (keys, found), found
    partition = table.partition(hash_key)
    if partition is None:
        return ordering, hash_attrs, range_attrs, compared, ([], []), []
    return ordering, hash_attrs, range_attrs, compared, partition.ordered(ordering), partition.entries.values()


def _index_candidates(
    table: FastTable,
    index_name: str,
    consistent_read: bool,
    hash_key_conditions: list[tuple[str, DynamoType]] | None,
    compared: str | None,
    range_comparison: str | None,
) -> Candidates | None:
    state = table.index_state(index_name)
    if state is None:
        return None
    if consistent_read and isinstance(state.index, GlobalSecondaryIndex):
        return None  # moto's ValidationException
    conditions = dict(hash_key_conditions or [])
    if set(conditions) != {state.hash_attr}:
        return None
    if range_comparison and (state.range_attr is None or compared not in (None, state.range_attr)):
        return None
    compared_attr = compared or state.range_attr
    view = state.view(lagged=state.is_global and consistency.settings.lags_gsis)
    partition = view.partitions.get(conditions[state.hash_attr])
    if partition is None:
        return state.ordering, state.hash_attrs, state.range_attrs, compared_attr, ([], []), []
    ordered = partition.ordered(state.ordering)
    return state.ordering, state.hash_attrs, state.range_attrs, compared_attr, ordered, partition.entries.values()


def _walk(
    table: FastTable,
    ordering: Ordering,
    keys: list[SortKey] | None,
    items: list[Item],
    hash_attrs: list[str],
    range_attrs: list[str | None],
    compared_attr: str | None,
    index_name: str | None,
    range_comparison: str | None,
    range_objs: list[DynamoType],
    limit: int,
    exclusive_start_key: dict[str, Any] | None,
    forward: bool,
) -> Page:
    """moto's loop over the candidates (in moto's order), started and stopped early where that is exact."""
    count = len(items)
    bounds = None if keys is None else _bounds(ordering, keys, items, range_comparison, range_objs, forward)
    start_after_key = None
    if bounds is not None and exclusive_start_key is not None:
        start_after_key = _after_start_key(ordering, keys, items, exclusive_start_key, forward)  # type: ignore[arg-type]
        if start_after_key is None:
            bounds = None
    if bounds is None:
        positions: Iterable[int] = range(count) if forward else range(count - 1, -1, -1)
        skipping = exclusive_start_key is not None
        exact = False
    else:
        first = bounds if start_after_key is None else (max if forward else min)(bounds, start_after_key)
        positions = range(first, count) if forward else range(first, -1, -1)
        skipping = False
        exact = True

    results: list[Item] = []
    result_size = 0
    scanned_count = 0
    last_evaluated_key = None
    for position in positions:
        result = items[position]
        if skipping:
            if table._item_comes_before_dct(result, exclusive_start_key, hash_attrs, range_attrs, forward):  # type: ignore[arg-type]
                continue
            skipping = False
        if len(results) == limit or (result_size + result.size()) > RESULT_SIZE_LIMIT:
            last_evaluated_key = table._get_last_evaluated_key(results[-1], index_name)
            break
        if not range_comparison:
            results.append(result)
            result_size += result.size()
            scanned_count += 1
            continue
        value = result.attrs.get(compared_attr) if compared_attr else None
        if value:
            matched = value.compare(range_comparison, range_objs)
        elif not index_name:
            matched = result.range_key.compare(range_comparison, range_objs)  # type: ignore[union-attr]
        else:
            matched = False
        if matched:
            results.append(result)
            result_size += result.size()
            scanned_count += 1
        elif exact and result_size + ITEM_SIZE_LIMIT <= RESULT_SIZE_LIMIT:
            # Past the condition's range: moto walks on only to test its 1 MB limit, out of reach here.
            break
    return results, scanned_count, last_evaluated_key


def _bounds(
    ordering: Ordering,
    keys: list[SortKey],
    items: list[Item],
    operator: str | None,
    values: list[DynamoType],
    forward: bool,
) -> int | None:
    """Where moto's walk first keeps an item under the key condition; None if that is not computable
    exactly (then the walk starts at the beginning, as moto's)."""
    count = len(keys)
    if not operator:
        return 0 if forward else count - 1
    if operator not in RANGE_OPERATORS or not items:
        return None if operator not in RANGE_OPERATORS else (0 if forward else count - 1)
    position = _range_position(ordering)
    if position is None:
        return None
    expected = ordering.signature(items[0])[position]
    if any(value.type != expected for value in values):
        return None
    if operator == "BEGINS_WITH" and expected != "S":
        return None
    try:
        bounds = [sort_value(value) for value in values]
    except Unordered:
        return None
    by_range = itemgetter(position)
    if operator in ("=", "EQ"):
        return (
            bisect_left(keys, bounds[0], key=by_range) if forward else bisect_right(keys, bounds[0], key=by_range) - 1
        )
    if operator in ("<", "<="):
        if forward:
            return 0
        cut = bisect_left if operator == "<" else bisect_right
        return cut(keys, bounds[0], key=by_range) - 1
    if operator in (">", ">="):
        if not forward:
            return count - 1
        cut = bisect_right if operator == ">" else bisect_left
        return cut(keys, bounds[0], key=by_range)
    if operator == "BETWEEN":
        if len(bounds) != 2:
            return None
        return (
            bisect_left(keys, bounds[0], key=by_range) if forward else bisect_right(keys, bounds[1], key=by_range) - 1
        )
    prefix = bounds[0]
    assert isinstance(prefix, str)
    if forward:
        return bisect_left(keys, prefix, key=by_range)
    beyond = _after_prefix(prefix)
    return count - 1 if beyond is None else bisect_left(keys, beyond, key=by_range) - 1


def _range_position(ordering: Ordering) -> int | None:
    """The position of the sort (range) attribute in the ordering: second, after the partition key."""
    return 1 if len(ordering.attributes) > 1 else None


def _after_prefix(prefix: str) -> str | None:
    """The least string greater than every string that starts with `prefix` (None: there is none)."""
    while prefix:
        last = ord(prefix[-1])
        if last < 0x10FFFF:
            return prefix[:-1] + chr(last + 1)
        prefix = prefix[:-1]
    return None


def _after_start_key(
    ordering: Ordering, keys: list[SortKey], items: list[Item], exclusive_start_key: dict[str, Any], forward: bool
) -> int | None:
    """The first position moto's walk does not skip as 'before or at the ExclusiveStartKey'; None if the
    key does not have the candidates' attributes and types (moto's comparison then decides, or fails)."""
    if not items or ordering.signature_of(exclusive_start_key) != ordering.signature(items[0]):
        return None if items else (0 if forward else -1)
    start = ordering.key_of(exclusive_start_key)
    if start is None:
        return None
    return bisect_right(keys, start) if forward else bisect_left(keys, start) - 1


def scan(
    table: FastTable,
    filters: dict[str, Any],
    limit: int,
    exclusive_start_key: dict[str, Any],
    filter_expression: Any = None,
    index_name: str | None = None,
    consistent_read: bool = False,
    projection_expression: list[list[str]] | None = None,
    segments: tuple[None, None] | tuple[int, int] = (None, None),
) -> Page:
    if index_name:
        return Table.scan(
            table,
            filters,
            limit,
            exclusive_start_key,
            filter_expression,
            index_name,
            consistent_read,
            projection_expression,
            segments=segments,
        )
    hash_attrs = [table.hash_key_attr]
    range_attrs: list[str | None] = [table.range_key_attr]
    walk = _scan_from(table, exclusive_start_key)
    skipping = walk is None and exclusive_start_key is not None
    results: list[Item] = []
    result_size = 0
    scanned_count = 0
    last_evaluated_key = None
    for item in walk if walk is not None else _every_item(table):
        if not item.is_within_segment(segments):
            continue
        if skipping:
            if table._item_comes_before_dct(item, exclusive_start_key, hash_attrs, range_attrs, True):
                continue
            skipping = False
        if len(results) == limit or (result_size + item.size()) > RESULT_SIZE_LIMIT:
            last_evaluated_key = table._get_last_evaluated_key(results[-1], index_name)
            break
        passes_all_conditions = True
        for attribute_name in filters:
            attribute = item.attrs.get(attribute_name)
            (comparison_operator, comparison_objs) = filters[attribute_name]
            if attribute:
                if not attribute.compare(comparison_operator, comparison_objs):
                    passes_all_conditions = False
                    break
            elif comparison_operator == "NULL":
                continue
            else:
                passes_all_conditions = False
                break
        if passes_all_conditions:
            results.append(item)
            result_size += item.size()
        scanned_count += 1
    if filter_expression is not None:
        results = [item for item in results if filter_expression.expr(item)]
    if projection_expression:
        results = [result.project(projection_expression) for result in results]
    return results, scanned_count, last_evaluated_key


def _every_item(table: FastTable) -> Iterator[Item]:
    return _items_from(table, 0, None)


def _items_from(table: FastTable, partition_position: int, first_in_partition: int | None) -> Iterator[Item]:
    """Every item from the partition at `partition_position` (from its item `first_in_partition`), in
    moto's Scan order: partition keys ascending, then sort keys ascending."""
    _, hashes = table.hash_order()
    for position in range(partition_position, len(hashes)):
        hash_key = hashes[position]
        if table.range_key_attr is None:
            stored: dict[Any, Any] = table.items
            item: Item | None = stored.get(hash_key)
            if item is not None:
                yield item
            continue
        partition = table.partition(hash_key)
        if partition is None:
            continue
        ordered = _ordered_or_sorted(table, partition)
        start = first_in_partition if position == partition_position and first_in_partition is not None else 0
        yield from ordered[start:]


def _ordered_or_sorted(table: FastTable, partition: Partition) -> list[Item]:
    ordered = partition.ordered(table._base_ordering)
    if ordered is not None:
        return list(ordered[1])
    return table.sorted_items([table.hash_key_attr], [table.range_key_attr], list(partition.entries.values()))


def _scan_from(table: FastTable, exclusive_start_key: dict[str, Any] | None) -> Iterator[Item] | None:
    """Items after the ExclusiveStartKey, or from the start; None when the key is not one the bisect can
    place exactly (then the Scan skips moto's way)."""
    if exclusive_start_key is None:
        return _every_item(table)
    ordering = table._base_ordering
    key_types = (table.hash_key_type,) if table.range_key_attr is None else (table.hash_key_type, table.range_key_type)
    if ordering.signature_of(exclusive_start_key) != key_types:
        return None
    start = ordering.key_of(exclusive_start_key)
    if start is None:
        return None
    hash_keys, hashes = table.hash_order()
    if table.range_key_attr is None:
        return _items_from(table, bisect_right(hash_keys, start[0]), None)
    position = bisect_left(hash_keys, start[0])
    if position < len(hash_keys) and hash_keys[position] == start[0]:
        partition = table.partition(hashes[position])
        ordered = partition.ordered(ordering) if partition is not None else None
        if ordered is None:
            return None
        return _items_from(table, position, bisect_right(ordered[0], start))
    return _items_from(table, position, None)


def contains_duplicates(handler: Any, keys: list[Any]) -> bool:
    """moto's `DynamoHandler._contains_duplicates` (whether a BatchGetItem's keys repeat one), by a set instead of
    comparing each key with every earlier one (100 keys: ~5,000 dict comparisons per request, 2% of a feed page's
    CPU). Two keys (`{name: {type: value}}`) are equal exactly when their sets of (name, {(type, value)}) are; a
    key of any other shape, or with an unhashable value, is left to moto's loop. Source: moto 5.2.5
    `DynamoHandler._contains_duplicates`, fingerprinted in moto_contract.py."""
    seen: set[frozenset[tuple[Any, frozenset[tuple[Any, Any]]]]] = set()
    try:
        for key in keys:
            canonical = frozenset((name, frozenset(typed.items())) for name, typed in key.items())
            if canonical in seen:
                return True
            seen.add(canonical)
    except (AttributeError, TypeError):
        return bool(MOTOS_CONTAINS_DUPLICATES(handler, keys))
    return False
