"""The local cloud: runs the synthesized CDK app on this machine (moto + in-process Lambda handlers).

The layer packages run from source (their assets are built for arm64), so they are importable as soon as
the local cloud is: the handlers import them, and so do the event pumps (the event pattern matcher the
stream routers use is the one the local mappings apply, pinhole.streams.patterns)."""

import sys
from pathlib import Path

LAYERS = Path(__file__).resolve().parents[1] / "layers"

for _layer in sorted(path for path in LAYERS.iterdir() if path.is_dir()):
    if str(_layer) not in sys.path:
        sys.path.insert(0, str(_layer))
