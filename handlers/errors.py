"""The domain's few exceptions; the conversation turns each into a kind reply."""

from __future__ import annotations

from typing import Any


class MeedoenError(Exception):
    """Base of the domain's exceptions."""


class NotFound(MeedoenError):
    """Something asked for does not exist (any more)."""


class NotAllowed(MeedoenError):
    """The person may not do this (a button meant for someone else, a wrong role)."""


class InvalidAnswer(MeedoenError):
    """An answer we could not read; `text_key` names the catalog text that explains why."""

    def __init__(self, text_key: str, **values: Any) -> None:
        super().__init__(text_key)
        self.text_key = text_key
        self.values = values
