"""Pinhole Web's Content-Security-Policy, written once for both places that serve the app: CloudFront
(stacks/stateless/web_construct.py) and the local cloud (local/web.py). No inline script or style, no
eval, no framing; the app may talk only to its own origin and the endpoints passed in. Plain Python
(no CDK import): the local cloud imports it."""

from collections.abc import Sequence


def content_security_policy(*, connect: Sequence[str], media: Sequence[str]) -> str:
    """`connect`: the HTTP API, the WebSocket API and the uploads endpoint; `media`: the media CDN."""
    directives = {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # blob: shows the photos and videos chosen for upload before they are sent
        "img-src": ["'self'", "blob:", *media],
        "media-src": ["'self'", "blob:", *media],
        "connect-src": ["'self'", *connect],
        "manifest-src": ["'self'"],
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())
