"""Fixtures for the run engine's tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest


@pytest.fixture
def often_switching() -> Iterator[None]:
    """Threads take turns every microsecond or so, not every 5 ms: races show quickly."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)
