"""What every function does once, when `pinhole` is first imported, so that its cold start (import + first
request) does less work — not the same work later. Figures: benchmarks/cold_start.py, docs/BENCHMARKS.md.

- One botocore data loader per process, shared by every session. botocore parses its JSON data (endpoints,
  partitions, each service's model and rule set) once per *session*; PynamoDB makes a session per connection
  per thread (a model class is a connection; the feed's first page reads six tables from a thread pool) and
  Powertools' parameters another, so each new session parsed the same files again: ~50 ms of CPU per DynamoDB
  client against ~8 ms with the loader shared. The loader only memoises files it read: no session behaves
  differently.
- What is imported by then (the interpreter's, botocore's and Powertools' objects: modules, classes,
  functions, data) lives as long as the process, so the cyclic garbage collector is told to stop traversing
  it (`gc.freeze`): the collections the rest of the import triggers, and every request's, walk only what came
  after. Only a reference cycle among those objects that later became garbage would never be reclaimed."""

import functools
import gc

import botocore.loaders
import botocore.session

_one_loader_per_data_path = functools.cache(botocore.loaders.create_loader)


def share_one_data_loader() -> None:
    """From now on every new botocore session with the same data path gets the same loader (idempotent)."""
    botocore.session.create_loader = _one_loader_per_data_path


def freeze_what_is_imported() -> None:
    """The collector ignores every object alive now in all future collections."""
    gc.freeze()
