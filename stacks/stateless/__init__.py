"""Code and edges: APIs, functions, the domain layer and the CDN. Safe to destroy and redeploy."""
