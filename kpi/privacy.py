"""Personal data: keyed pseudonyms for identifiers.

Employee ids, e-mails, GitHub logins and names never reach the warehouse: ingest replaces every
identifier by ``HMAC-SHA256(key, normalised identifier)``. The same person's e-mail on the HR side
and on the usage side gives the same pseudonym, so matching works on pseudonyms alone. The key
comes from the environment variable named by ``privacy.pseudonym_key_env``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sys
from collections.abc import Iterable

from kpi.errors import UserError

# Used by `kpi demo` and the test suite only. Anyone who knows it can re-identify pseudonyms by
# hashing candidate e-mails, which is why real runs refuse to use it silently.
DEVELOPMENT_KEY = "kpi-DEVELOPMENT-KEY-demo-only-not-secret"
PSEUDONYM_PREFIX = "p_"


def normalise_identifier(value: str) -> str:
    """Identifiers match case-insensitively and ignoring surrounding blanks."""
    return value.strip().casefold()


def resolve_key(env_var: str, *, allow_development_key: bool = False) -> bytes:
    """The pseudonymisation key from the environment, or the development key when allowed."""
    value = os.environ.get(env_var, "")
    if value:
        if len(value) < 16:
            raise UserError(
                f"environment variable {env_var} is too short ({len(value)} characters): use at "
                "least 16, e.g. the output of: python -c 'import secrets; print(secrets.token_hex(32))'"
            )
        return value.encode("utf-8")
    if allow_development_key:
        print(
            f"WARNING: {env_var} is not set: using the PUBLIC DEVELOPMENT pseudonym key "
            "(fine for the demo, never for real employee data).",
            file=sys.stderr,
        )
        return DEVELOPMENT_KEY.encode("utf-8")
    raise UserError(
        f"environment variable {env_var} is not set: set it to a long random secret (e.g. "
        "python -c 'import secrets; print(secrets.token_hex(32))') and keep it the same across runs"
    )


def pseudonymise(value: str, key: bytes) -> str:
    """Keyed pseudonym of one identifier (stable across runs for the same key)."""
    digest = hmac.new(key, normalise_identifier(value).encode("utf-8"), hashlib.sha256)
    return PSEUDONYM_PREFIX + digest.hexdigest()[:24]


def pseudonym_map(values: Iterable[str | None], key: bytes) -> dict[str, str]:
    """Pseudonyms for the distinct non-empty values (hash each distinct value once)."""
    return {v: pseudonymise(v, key) for v in set(values) if v is not None and v.strip()}
