"""Pinhole's domain: one package per bounded context (models, logic, data access), shared plumbing in `shared`."""

from pinhole.shared.cold_start import freeze_what_is_imported, share_one_data_loader

# Before any botocore session exists, and once what every function imports first is loaded (shared.cold_start).
share_one_data_loader()
freeze_what_is_imported()
