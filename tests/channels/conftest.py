"""Fixtures of the channel tests."""

from __future__ import annotations

import pytest

from storage.verbs import utcnow
from tests.harness import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    """The test's clock, starting now (whole seconds); the app takes it for "now"."""
    return FakeClock(utcnow().replace(microsecond=0))
