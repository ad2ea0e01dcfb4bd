"""The one error a domain action raises when it refuses."""

from __future__ import annotations


class DomainError(ValueError):
    """A refused domain action; `str(error)` is shown to the person who asked, `code` is for code."""

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
