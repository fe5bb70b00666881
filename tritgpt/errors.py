"""Errors the user can act on: printed as one line, exit code 1 (or the given code)."""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input or environment; the message says how to fix it."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code
