"""How numbers read in the UI, in one place."""

from __future__ import annotations

import math

from promptstudio.durations import NO_VALUE

MIN_COST = 0.000001  # shown as "<$0.000001"


def format_cost(cost: float | None) -> str:
    """Two significant digits: cheap models cost $0.000058 a call, and that is worth seeing."""
    if cost is None:
        return NO_VALUE
    if cost == 0:
        return "$0"
    if cost < MIN_COST:
        return f"<${MIN_COST:.6f}"
    decimals = max(2, 1 - math.floor(math.log10(cost)))
    return f"${cost:.{decimals}f}"
