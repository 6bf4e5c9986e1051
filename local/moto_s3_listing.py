"""moto's S3 listings while another thread deletes keys of the same bucket.

moto 5.2.5 keeps a bucket's keys in `_VersionedKeyStore` (s3/utils.py), whose iterators copy the key dict first (so
that a concurrent write cannot change its size mid-loop) and then read each key again: `self[key]` or
`self.getlist(key)`. A key deleted between the copy and that read answers KeyError (items, values) or None (lists);
`list_object_versions` then fails with "'NoneType' object is not iterable", a 500 to the caller. The local cloud
serves S3 from many threads: `make test` met it once (an account purge listing the uploads bucket's versions while
other tests deleted their objects there). S3 lists what a bucket holds at one moment; here a key deleted during the
listing is left out, as it would be from a listing made a moment later. Each replaced method is fingerprinted
against the source it was written against: another moto stops the start with `MotoChanged`."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Iterator
from typing import Any

from moto.s3.utils import _VersionedKeyStore

FINGERPRINTS = {"_iteritems": "f345f5fa49b0e3e2", "_itervalues": "c608df9c83b162e5", "_iterlists": "34a64f52bc7d0196"}


class MotoChanged(RuntimeError):
    """moto's _VersionedKeyStore is not the one local/moto_s3_listing.py was written against."""


def _iteritems(self: _VersionedKeyStore) -> Iterator[tuple[str, Any]]:
    for key in self._self_iterable():
        versions = self.getlist(key)
        if versions:  # deleted since the copy: left out
            yield key, versions[-1]


def _itervalues(self: _VersionedKeyStore) -> Iterator[Any]:
    for _, latest in _iteritems(self):
        yield latest


def _iterlists(self: _VersionedKeyStore) -> Iterator[tuple[str, list[Any]]]:
    for key in self._self_iterable():
        versions = self.getlist(key)
        if versions is not None:  # deleted since the copy: left out
            yield key, versions


REPLACEMENTS = {"_iteritems": _iteritems, "_itervalues": _itervalues, "_iterlists": _iterlists}
_MOTOS = {name: getattr(_VersionedKeyStore, name) for name in REPLACEMENTS}  # as moto wrote them, before install
ALIASES = {
    "_iteritems": ("items", "iteritems"),
    "_itervalues": ("values", "itervalues"),
    "_iterlists": ("lists", "iterlists"),
}


def current_fingerprints() -> dict[str, str]:
    return {
        name: hashlib.sha256(inspect.getsource(method).encode()).hexdigest()[:16] for name, method in _MOTOS.items()
    }


def install() -> None:
    """Idempotent; process-wide (every moto S3 backend of this process)."""
    if _VersionedKeyStore._iterlists is _iterlists:
        return
    changed = [name for name, print_ in current_fingerprints().items() if FINGERPRINTS[name] != print_]
    if changed:
        raise MotoChanged(f"local/moto_s3_listing.py was written against other sources of: {', '.join(changed)}")
    for name, replacement in REPLACEMENTS.items():
        for attribute in (name, *ALIASES[name]):
            setattr(_VersionedKeyStore, attribute, replacement)


if __name__ == "__main__":
    print(f"FINGERPRINTS = {current_fingerprints()}")
