"""Hourly-billed endpoints: the inventory across providers, idle rules and ownership-checked teardown."""
