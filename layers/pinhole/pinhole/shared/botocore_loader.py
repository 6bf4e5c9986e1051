"""One botocore data loader per process, shared by every botocore session.

botocore parses its JSON data (endpoints, partitions, each service's model and rule set) once per *session*.
PynamoDB makes a session per connection per thread (a model class is a connection; the feed's first page
reads six tables from a thread pool) and Powertools' parameters another: each new session parsed the same
files again, ~50 ms of CPU per DynamoDB client against ~8 ms with the loader shared (benchmarks/cold_start.py,
"first request"). The loader only memoises files it read, so sharing it changes no session's behaviour."""

import functools

import botocore.loaders
import botocore.session

_one_loader_per_data_path = functools.cache(botocore.loaders.create_loader)


def share_one_data_loader() -> None:
    """From now on every new botocore session with the same data path gets the same loader (idempotent)."""
    botocore.session.create_loader = _one_loader_per_data_path
