"""User-facing errors.

Anything the user can fix (a wrong config key, a missing input file, a bad column) raises a
``UserError`` whose message is ONE line naming the file or key, the problem and the fix. The CLI
prints it without a traceback and exits with status 2.
"""

from __future__ import annotations


class UserError(Exception):
    """An error the user can fix; its message is one line."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


class ConfigError(UserError):
    """The config YAML is wrong: the message names the key, the value and what is allowed."""


class InputError(UserError):
    """An input file cannot be used: the message names the file, the problem and the fix."""
