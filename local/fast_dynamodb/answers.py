"""A stored item's answer made once: what the three walks of a read make of its attributes, kept with them.

Every item a GetItem, BatchGetItem, Query or Scan answers goes through three walks on its way to the handler:
`dynamo_to_dict` (results.py: DynamoTypes to plain dicts), the compiled serializer (serialization.py: what
moto's JSON serializer writes) and the compiled parser (local/response_parsing.py: what botocore reads back).
A FastTable never changes an item it holds (storage.py stores a new item for every change) and a projection of
it is made once (`StoredItem.project`), so the same item read again, a feed candidate's standing on every
page, a popular post on every follower's, walked the same values to the same answers each time: for the
ranked feed's first page, 1,150 items, a third of its CPU (docs/LOCAL_CLOUD.md, "Where the time goes").

Here each walk's result is kept by the value it walked:
- a held item's attributes are `FrozenAttributes` (a LimitedSizeDict that refuses every change), which keep
  their `dynamo_to_dict` form;
- that form, and the serializer's form of it, are `Walked` dicts: their content is exactly what the walk made
  (so moto's own serializer, `json.dumps`, or any other reader sees what it would have seen), and they keep,
  per converter of the next walk, what that converter made of them.
The serializer's and the parser's attribute-map converters answer a `Walked` from what they kept. The parser
hands out a new top-level dict each time (boto3's resource layer replaces an item's values in it); the
values inside are shared between answers, as nothing that reads them (PynamoDB, boto3's TypeDeserializer,
pinhole.shared.raw_items) changes them. `tests/unit/local/test_fast_dynamodb_answers.py` checks the kept
answers against fresh walks, over HTTP and at before-call."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, NoReturn

from moto.dynamodb.models.dynamo_type import LimitedSizeDict


class FrozenAttributes(LimitedSizeDict):
    """The attributes of an item a FastTable holds, or of a projection of one: never changed again."""

    converted: Walked | None = None  # their dynamo_to_dict form, once made

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("a stored item's attributes never change: copy the item (copy.deepcopy) to change it")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = __ior__ = _refuse

    # A copy is made to be changed, or kept (moto's backups, a pickle): a plain LimitedSizeDict, as the original was.
    def __copy__(self) -> LimitedSizeDict:
        return plain(dict(self))

    def __deepcopy__(self, memo: dict[int, Any]) -> LimitedSizeDict:
        return plain({key: copy.deepcopy(value, memo) for key, value in self.items()})

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        return plain, (dict(self),)


def plain(attrs: dict[str, Any]) -> LimitedSizeDict:
    """A LimitedSizeDict of these attributes (already measured: not measured again)."""
    copied = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.__init__(copied, attrs)
    return copied


def freeze(attrs: Any) -> None:
    """`attrs` (an item's LimitedSizeDict, just built or just stored) made FrozenAttributes in place."""
    if type(attrs) is LimitedSizeDict:
        attrs.__class__ = FrozenAttributes


class Walked(dict[str, Any]):
    """A walk's result (its content), keeping what each converter of the next walk made of it."""

    __slots__ = ("later",)

    def __init__(self, content: dict[str, Any]) -> None:
        dict.__init__(self, content)
        self.later: dict[Callable[[Any], Any], Any] = {}


def walked_once(walked: Walked, converter: Callable[[Any], Any], walk: Callable[[Any], Any]) -> Any:
    """What `converter` makes of `walked` (by `walk`, its plain path), made once."""
    found = walked.later.get(converter)
    if found is None:
        found = walked.later[converter] = walk(walked)
    return found
