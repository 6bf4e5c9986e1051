"""The privacy context: deleting an account (deactivation, grace period, purge) and exporting its data."""
