"""The one place that creates the logger, tracer and metrics (service name and namespace come from
the POWERTOOLS_* environment the function factory sets).

The tracer's provider is `DeferredXRay`: Powertools' default provider imports the X-Ray SDK when the tracer
is created — at import, even with tracing disabled — and the SDK's recorder builds two botocore X-Ray clients
for its sampler then: the largest single cost of a cold start (docs/BENCHMARKS.md, "Cold start"). Deferred,
tracing on AWS is unchanged (same recorder, same patches, streaming as Powertools configures it) but starts
on the first traced call; with tracing disabled (tests, the local cloud) the SDK is never imported at all."""

from collections.abc import AsyncGenerator, Generator, Sequence
from contextlib import asynccontextmanager, contextmanager
from numbers import Number
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment


class Untraced(BaseSegment):
    """The subsegment of a disabled tracer: accepts everything, records nothing."""

    def close(self, end_time: int | None = None) -> None:
        return None

    def add_subsegment(self, subsegment: Any) -> None:
        return None

    def remove_subsegment(self, subsegment: Any) -> None:
        return None

    def put_annotation(self, key: str, value: str | Number | bool) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        return None


class DeferredXRay(BaseProvider):
    """Powertools' X-Ray provider, made on the first traced call instead of at import: the patches the tracer
    asks for are remembered and applied then (botocore's is class-wide, so clients made earlier are traced)."""

    def __init__(self) -> None:
        self.enabled = False
        self._patches: list[Sequence[str] | None] = []  # None: every module the SDK supports
        self._recorder: Any = None

    @property
    def started(self) -> bool:
        return self._recorder is not None

    def recorder(self) -> Any:
        if self._recorder is None:
            from aws_xray_sdk.core import patch, patch_all, xray_recorder

            # Subsegments sent one by one, as Powertools configures its own X-Ray provider (its issue 283).
            xray_recorder.configure(streaming_threshold=0)
            for modules in self._patches:
                patch_all() if modules is None else patch(modules)
            self._recorder = xray_recorder
        return self._recorder

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        if not self.enabled:
            yield Untraced()
            return
        with self.recorder().in_subsegment(name=name, **kwargs) as subsegment:
            yield subsegment

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AsyncGenerator[BaseSegment, None]:
        if not self.enabled:
            yield Untraced()
            return
        async with self.recorder().in_subsegment_async(name=name, **kwargs) as subsegment:
            yield subsegment

    def put_annotation(self, key: str, value: str | Number | bool) -> None:
        if self.enabled:
            self.recorder().put_annotation(key=key, value=value)

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        if self.enabled:
            self.recorder().put_metadata(key=key, value=value, namespace=namespace)

    def patch(self, modules: Sequence[str]) -> None:
        self._patches.append(list(modules))
        if self.started:
            from aws_xray_sdk.core import patch

            patch(modules)

    def patch_all(self) -> None:
        self._patches.append(None)
        if self.started:
            from aws_xray_sdk.core import patch_all

            patch_all()


logger = Logger()
xray = DeferredXRay()
tracer = Tracer(provider=xray)
xray.enabled = not tracer.disabled  # Powertools decides: disabled by env, or outside Lambda
metrics = Metrics()
