"""Automatic actions of alert rules through the store services (issue 7)."""
