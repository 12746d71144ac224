"""Pure rules for keys: generation and hashing."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "sk_"


def new_key() -> str:
    """A fresh API key: `sk_` and 40 URL-safe random characters (240 bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(30)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    return key[:10]
