"""The Pinhole CDK app: a stateful stack (identity, tables, buckets) and a stateless one (APIs, functions, CDN)."""
