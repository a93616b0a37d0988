"""Resident-facing texts, read from the gettext catalogs in `handlers/locale/`.

Message ids are stable keys ("ask.name"); each language's `.po` file holds the words.
Dutch (B1) is the default and the fallback.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
DOMAIN = "meedoen"


def _read_catalog(language: str) -> dict[str, str]:
    path = resources.files("handlers") / "locale" / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        catalog: Catalog = read_po(handle, locale=language)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and message.string and not message.fuzzy
    }


class Texts:
    """Looks up a text by key in a language, falling back to Dutch, then to the key."""

    def __init__(self, catalogs: dict[str, dict[str, str]]) -> None:
        self._catalogs = catalogs

    @classmethod
    @functools.cache
    def load(cls) -> Texts:
        return cls({language: _read_catalog(language) for language in LANGUAGES})

    def keys(self, language: str) -> frozenset[str]:
        return frozenset(self._catalogs.get(language, {}))

    def __call__(self, language: str, key: str, **values: Any) -> str:
        text = self._catalogs.get(language, {}).get(key)
        if text is None:
            text = self._catalogs[DEFAULT_LANGUAGE].get(key, key)
        return text.format(**values) if values else text


def pick_language(code: str | None) -> str:
    """Map a platform language code ("en-GB", "nl") onto a supported language."""
    if code:
        short = code.split("-")[0].lower()
        if short in LANGUAGES:
            return short
    return DEFAULT_LANGUAGE
