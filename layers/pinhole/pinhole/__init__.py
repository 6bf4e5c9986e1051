"""Pinhole's domain: one package per bounded context (models, logic, data access), shared plumbing in `shared`."""

from pinhole.shared.botocore_loader import share_one_data_loader

# Before any botocore session exists: every function's first request makes several (pinhole.shared.botocore_loader).
share_one_data_loader()
