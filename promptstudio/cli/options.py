"""Command-line options shared by several commands, each declared once.

``run`` and ``eval`` take the same generation settings from :func:`add_generation_options`;
numeric options are checked as they are parsed (:func:`number`), so ``--timeout 0``,
``-1``, ``nan`` or ``inf`` are usage errors, never values sent to a server. The generation
settings take their kinds and ranges from the core's one table,
:data:`~promptstudio.providers.param_rules.PARAM_RULES` (:func:`ruled`), so a flag accepts
exactly what the run column's editors and the importers accept.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from promptstudio.providers.apis import API_CHOICES
from promptstudio.providers.param_rules import PARAM_RULES

#: A day: longer is a mistake (the SDKs' own default is 600 s).
MAX_TIMEOUT_SECONDS = 86_400.0


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
            above = f"above {_shown(low)}" if low_open else f"at least {_shown(low)}"
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {kind} {above} and at most {_shown(high)}"
            )
        return value

    return parse


def fraction(text: str) -> float:
    """An argparse ``type``: a share from 0 to 1, written ``0.8`` or ``80%``."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction like 0.8 or 80%") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not between 0 and 1 (0% and 100%)")
    return value


def _shown(bound: float) -> str:
    """A bound as people write it: ``2``, ``0.5``, ``2147483647`` (not ``2.14748e+09``)."""
    return str(int(bound)) if float(bound).is_integer() else f"{bound:g}"


def whole(low: int = 1, high: int = 2**31 - 1) -> Callable[[str], int]:
    """An argparse ``type``: a whole number in [low, high] (counts, limits, positions)."""
    check = number(low, high, integer=True)
    return lambda text: int(check(text))


#: The flags for the numeric generation settings: flag, setting, metavar, help before the range.
_GENERATION_FLAGS = (
    ("--temperature", "temperature", "T", ""),
    ("--top-p", "top_p", "P", ""),
    ("--max-tokens", "max_tokens", "N", "most tokens to generate, "),
    ("--seed", "seed", "N", "for repeatable answers, "),
)


def ruled(name: str) -> tuple[Callable[[str], float], str]:
    """The argparse ``type`` and the range in words ("0 to 2") of the generation setting
    ``name``, both from its rule in :data:`PARAM_RULES`."""
    rule = PARAM_RULES[name]
    low, high = rule.minimum, rule.maximum
    parse = whole(int(low), int(high)) if rule.kind == "integer" else number(low, high)
    return parse, f"{_shown(low)} to {_shown(high)}"


def add_generation_options(parser: argparse.ArgumentParser) -> None:
    """The generation settings and the first-token timeout (``run`` and ``eval``)."""
    group = parser.add_argument_group("generation settings (override the prompt's own)")
    for flag, name, metavar, what in _GENERATION_FLAGS:
        parse, allowed = ruled(name)
        group.add_argument(flag, type=parse, metavar=metavar, help=f"{what}{allowed}")
    group.add_argument("--stop", action="append", default=[], metavar="TEXT",
                       help="a stop sequence (repeat for several)")  # fmt: skip
    group.add_argument(
        "--api",
        choices=API_CHOICES,
        help="the API to speak: auto (the provider's choice), chat or responses (OpenAI kinds)",
    )
    group.add_argument("--timeout", type=number(0, MAX_TIMEOUT_SECONDS, low_open=True),
                       metavar="S", help="seconds to the first token "
                       "(default: the settings' timeouts.first_token)")  # fmt: skip
