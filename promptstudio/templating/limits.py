"""Render limits and the size pre-checks that stop hostile operations before they allocate.

The streaming output cap and the timeout in :mod:`render` catch most runaway templates,
but a single operation such as ``'x' * 10**9`` allocates gigabytes in one C call that no
timeout can interrupt. The sandbox therefore estimates the size of amplifying operations
(``*``, ``**``, ``+``, ``%``, ``~``, padding and joining filters and str methods) and
refuses those whose result would exceed the output limit. Estimates are upper bounds that
may overshoot by a small factor; the exact limit is enforced on the streamed output.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RenderLimits:
    """How much a single render may read and produce, and how long it may run.

    The input limits are checked before Jinja sees the template, because parsing and
    compiling run in C calls no deadline interrupts and cost far more than the text:
    each character of tag markup costs about 2 to 5 KB of memory while it is compiled
    (measured: 64,000 characters of ``{{ a+a+a+a+a+a+a }}`` took 1.5 s and 300 MB; the
    10 MB template of issue 14 took 22 s and 2.5 GB). With 32,000 characters of markup a
    render stays under about 160 MB and 1 s on an idle core (the deadline stops it when
    the machine is busy); our longest sample has 73. Plain text is
    cheap (1 MB in 0.2 s and 35 MB) but a template longer than the output limit could
    only fail on it, so the source may be as long as the output, no longer.
    """

    max_output_chars: int = 1_000_000
    timeout_seconds: float = 2.0
    max_source_chars: int = 1_000_000
    max_markup_chars: int = 32_000


DEFAULT_LIMITS = RenderLimits()

#: Most items ``range()`` may produce; loops over more are almost always a mistake or an attack.
MAX_RANGE = 10_000

#: The size limit of the render running in this thread (set by the render worker).
size_limit: ContextVar[int] = ContextVar("size_limit", default=RenderLimits.max_output_chars)


class LimitHit(Exception):
    """Raised inside the sandbox; turned into ``RenderLimitExceeded`` with a position."""


_TAG_OPENER = re.compile(r"\{[{%]")
_TAG_CLOSER = {"{{": "}}", "{%": "%}"}


def input_problem(source: str, limits: RenderLimits) -> tuple[str, int] | None:
    """Why ``source`` is too big to parse, and the offset to point at; None if it is fine.

    Markup is every character of ``{{ }}`` and ``{% %}`` tags, counted in one linear scan
    that stops at the limit (an unclosed tag counts to the end; tags inside comments and
    raw blocks count too, so the count can only overshoot).
    """
    if len(source) > limits.max_source_chars:
        return (
            f"the template is {len(source):,} characters long; the limit is "
            f"{limits.max_source_chars:,}",
            limits.max_source_chars,
        )
    markup, position = 0, 0
    while (opener := _TAG_OPENER.search(source, position)) is not None:
        end = source.find(_TAG_CLOSER[opener.group()], opener.end())
        end = len(source) if end < 0 else end + 2
        markup += end - opener.start()
        if markup > limits.max_markup_chars:
            return (
                f"the template has more than {limits.max_markup_chars:,} characters of "
                "{{ }} and {% %} tags, more than a render may parse",
                opener.start(),
            )
        position = end
    return None


def ensure_size(size: int, what: str) -> None:
    """The one size guard: refuse ``what`` if it would produce more than the limit."""
    limit = size_limit.get()
    if size > limit:
        raise LimitHit(f"{what} would produce about {size:,} characters; the limit is {limit:,}")


def rendered_length(value: object) -> int:
    """Rendered length of ``value`` (its ``str()``), cheap for strings and sequences of them."""
    if isinstance(value, str):
        return len(value)
    return len(str(value))


_PERCENT_SPEC = re.compile(
    r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])"
)


def _format_estimate(
    fmt: str, fields: int, widths: int, star: bool, values: Iterable[object]
) -> int:
    """Upper bound for a formatted string: literal text + padding + every field's longest value."""
    values = list(values)
    if star:  # widths taken from the arguments
        widths += sum(v for v in values if isinstance(v, int))
    longest = max((rendered_length(v) for v in values), default=0)
    return len(fmt) + widths + fields * longest


def percent_format_size(fmt: str, args: object) -> int:
    """Estimate ``fmt % args`` (also the ``format`` filter)."""
    fields = widths = 0
    star = False
    for match in _PERCENT_SPEC.finditer(fmt):
        if match.group(3) == "%":
            continue
        fields += 1
        for number in match.group(1, 2):
            if number == "*":
                star = True
            elif number:
                widths += int(number)
    if isinstance(args, Mapping):
        values: Iterable[object] = args.values()
    elif isinstance(args, tuple):
        values = args
    else:
        values = (args,)
    return _format_estimate(fmt, fields, widths, star, values)


def brace_format_size(fmt: str, args: Iterable[object], kwargs: Mapping[str, object]) -> int:
    """Estimate ``fmt.format(*args, **kwargs)``."""
    fields = widths = 0
    star = False
    for _literal, name, spec, _conversion in string.Formatter().parse(fmt):
        if name is None:
            continue
        fields += 1
        spec = spec or ""
        widths += sum(int(n) for n in re.findall(r"\d+", spec))
        star = star or "{" in spec
    return _format_estimate(fmt, fields, widths, star, [*args, *kwargs.values()])


def replace_size(text: str, old: str, new: str, count: int | None = None) -> int:
    """Exact length of ``text.replace(old, new, count)`` without building it."""
    hits = text.count(old)
    if count is not None and count >= 0:
        hits = min(hits, count)
    return len(text) + hits * (len(new) - len(old))


def join_size(separator: str, items: list[object]) -> int:
    """Exact length of ``separator.join(items)`` for already-materialised ``items``."""
    return sum(rendered_length(item) for item in items) + max(len(items) - 1, 0) * len(separator)


def binop_size(operator: str, left: object, right: object) -> int:
    """Estimated size of ``left <operator> right``; 0 where the result cannot grow hugely."""
    sized = (str, list, tuple)
    if operator == "*":
        if isinstance(left, sized) and isinstance(right, int):
            return len(left) * right
        if isinstance(right, sized) and isinstance(left, int):
            return len(right) * left
        if isinstance(left, int) and isinstance(right, int):
            # about one decimal digit per 3.3 bits; caps repeated squaring of big ints
            return (left.bit_length() + right.bit_length()) * 3 // 10
    elif operator == "**":
        if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
            return left.bit_length() * right * 3 // 10
    elif operator == "+":
        if isinstance(left, sized) and isinstance(right, sized):
            return len(left) + len(right)
    elif operator == "%" and isinstance(left, str):
        return percent_format_size(left, right)
    return 0
