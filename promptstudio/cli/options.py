"""Command-line options shared by several commands, each declared once.

``run`` and ``eval`` take the same generation settings from :func:`add_generation_options`;
numeric options are checked as they are parsed (:func:`number`), so ``--timeout 0``,
``-1``, ``nan`` or ``inf`` are usage errors, never values sent to a server.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

#: What the run column's editor accepts for each setting (``ui/run_column.py``).
MAX_TEMPERATURE = 2.0
MAX_OUTPUT_TOKENS = 1_000_000
#: A day: longer is a mistake (the SDKs' own default is 600 s).
MAX_TIMEOUT_SECONDS = 86_400.0
#: Seeds are 64-bit integers at every API that takes one.
SEED_RANGE = (-(2**63), 2**63 - 1)


def number(
    low: float,
    high: float,
    *,
    integer: bool = False,
    low_open: bool = False,
) -> Callable[[str], float]:
    """An argparse ``type``: a finite number in [low, high] (or (low, high] if ``low_open``)."""

    def parse(text: str) -> float:
        kind = "a whole number" if integer else "a number"
        try:
            value: float = int(text) if integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}") from None
        too_low = value <= low if low_open else value < low
        if not math.isfinite(value) or too_low or value > high:
            above = f"above {low:g}" if low_open else f"at least {low:g}"
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind} {above} and at most {high:g}")
        return value

    return parse


def whole(low: int = 1, high: int = 2**31 - 1) -> Callable[[str], int]:
    """An argparse ``type``: a whole number in [low, high] (counts, limits, positions)."""
    check = number(low, high, integer=True)
    return lambda text: int(check(text))


def add_generation_options(parser: argparse.ArgumentParser) -> None:
    """The generation settings and the first-token timeout (``run`` and ``eval``)."""
    group = parser.add_argument_group("generation settings (override the prompt's own)")
    group.add_argument("--temperature", type=number(0, MAX_TEMPERATURE), metavar="T",
                       help=f"0 to {MAX_TEMPERATURE:g}")  # fmt: skip
    group.add_argument("--top-p", type=number(0, 1), metavar="P", help="0 to 1")
    group.add_argument("--max-tokens", type=whole(1, MAX_OUTPUT_TOKENS), metavar="N",
                       help="most tokens to generate")  # fmt: skip
    group.add_argument("--seed", type=whole(*SEED_RANGE), metavar="N")
    group.add_argument("--stop", action="append", default=[], metavar="TEXT",
                       help="a stop sequence (repeat for several)")  # fmt: skip
    group.add_argument("--timeout", type=number(0, MAX_TIMEOUT_SECONDS, low_open=True),
                       default=120.0, metavar="S", help="seconds to the first token")  # fmt: skip
