"""Unguessable tokens: single-use reply addresses, VERP addresses, daemon names."""

import secrets


def new_token() -> str:
    """An unguessable single-use token, safe in an email local part (lowercase, no '+')."""
    return secrets.token_hex(16)
