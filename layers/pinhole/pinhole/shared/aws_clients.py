"""AWS clients made with botocore alone, for code on an API function's cold path. A boto3 client is a botocore
client made by a botocore session; importing boto3 (and s3transfer, which it imports) costs ~15 ms of CPU on top
of botocore, for nothing such a client uses (docs/BENCHMARKS.md, cold start). X-Ray patches botocore's client
class, so these clients are traced as boto3's are; the calls, and so the IAM actions, are the same."""

import functools
from typing import Any

import botocore.session
from botocore.config import Config


@functools.cache
def _session() -> botocore.session.Session:
    """One session per process, as boto3's default session is (its credentials are resolved once)."""
    return botocore.session.get_session()


def client(
    service: str, region_name: str | None = None, config: Config | None = None, endpoint_url: str | None = None
) -> Any:
    """The client `boto3.client(service, region_name=..., config=..., endpoint_url=...)` would make (no region:
    the runtime's, AWS_REGION, as boto3's)."""
    return _session().create_client(service, region_name=region_name, config=config, endpoint_url=endpoint_url)
