"""Pinhole's domain: one package per bounded context (models, logic, data access), shared plumbing in `shared`."""
