"""The stand-in packages on the children's PYTHONPATH (see tests/stand_in)."""

from __future__ import annotations

import os

import pytest

from tests.stand_in import PATH as STAND_IN


@pytest.fixture(autouse=True)
def stand_in_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    paths = [str(STAND_IN), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))
