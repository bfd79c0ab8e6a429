"""Protecting keys, money and the server: redaction, access codes, limits, headers."""
