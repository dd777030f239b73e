"""The one Jinja environment every template is parsed and rendered with.

An :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` (Prompty uses a plain one; we
don't: templates are shared and values come from anywhere) with ``StrictUndefined``, no
autoescaping, and size guards on every operation that can amplify its input.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Iterable
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.filters import make_attrgetter
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import generate_lorem_ipsum

from promptstudio.templating import limits
from promptstudio.templating.source import OUTPUT_END, SENTINEL
from promptstudio.templating.threads import THREAD_MARK, ThreadValue


def taint(value: object) -> str:
    """``finalize`` for ``{{ }}`` output: mark it so no line of it can become a role marker.

    A sentinel goes at the start and after every newline; lines holding a sentinel are never
    markers, and the sentinels are removed when the output is split into messages. A second
    mark ends the output, so image markup (``![alt](SOURCE)``) can be told from values. A
    thread value becomes its token (``templating.threads``), which the split expands.
    """
    if isinstance(value, ThreadValue):
        return SENTINEL + value.token + OUTPUT_END
    text = str(value).replace(SENTINEL, "").replace(OUTPUT_END, "").replace(THREAD_MARK, "")
    return SENTINEL + text.replace("\n", "\n" + SENTINEL) + OUTPUT_END


def _sized_items(items: Iterable[object]) -> list[object]:
    return items if isinstance(items, list) else list(items)


def _tojson_size(value: object, indent: object) -> int:
    """Size of indented JSON: each indent level adds ``len(indent)`` per level per line."""
    if indent is None:
        return 0
    width = len(indent) if isinstance(indent, str) else int(str(indent))
    flat = len(json.dumps(value, default=str, indent=0))
    return flat + width * (len(json.dumps(value, default=str, indent=1)) - flat)


def _indent_size(text: str, width: object) -> int:
    prefix = len(width) if isinstance(width, str) else int(str(width))
    return len(text) + (text.count("\n") + 1) * prefix


def _wordwrap_size(text: str, width: int, wrapstring: str) -> int:
    return len(text) + (len(text) // max(width, 1) + 1) * len(wrapstring)


# For each amplifying filter: how big its result would be, from its bound arguments.
_FILTER_SIZES: dict[str, Callable[[dict[str, Any]], int]] = {
    "center": lambda a: int(a["width"]),
    "indent": lambda a: _indent_size(str(a["s"]), a["width"]),
    "wordwrap": lambda a: _wordwrap_size(str(a["s"]), int(a["width"]), a["wrapstring"] or "\n"),
    "format": lambda a: limits.percent_format_size(str(a["value"]), a["kwargs"] or a["args"]),
    "replace": lambda a: limits.replace_size(str(a["s"]), str(a["old"]), str(a["new"]), a["count"]),
    "join": lambda a: limits.join_size(str(a["d"]), a["value"]),
    "batch": lambda a: 0 if a["fill_with"] is None else int(a["linecount"]),
    "tojson": lambda a: _tojson_size(a["value"], a["indent"]),
    "dump": lambda a: _tojson_size(a["value"], a["spaces"]),
}

# For each amplifying str method: how big ``text.method(*args)`` would be.
_METHOD_SIZES: dict[str, Callable[[str, tuple[Any, ...], dict[str, Any]], int]] = {
    "ljust": lambda s, a, k: int(a[0]) if a else 0,
    "rjust": lambda s, a, k: int(a[0]) if a else 0,
    "center": lambda s, a, k: int(a[0]) if a else 0,
    "zfill": lambda s, a, k: int(a[0]) if a else 0,
    "expandtabs": lambda s, a, k: len(s) + s.count("\t") * int(a[0] if a else k.get("tabsize", 8)),
    "replace": lambda s, a, k: limits.replace_size(s, *a[:3]) if len(a) >= 2 else 0,
    "join": lambda s, a, k: limits.join_size(s, a[0]) if a else 0,
    "__mul__": lambda s, a, k: len(s) * int(a[0]) if a else 0,
    "format": lambda s, a, k: limits.brace_format_size(s, a, k),
    "format_map": lambda s, a, k: limits.brace_format_size(s, (), a[0]) if a else 0,
}


def _guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a built-in filter so its estimated result size is checked before it runs."""
    signature = inspect.signature(func)
    estimate = _FILTER_SIZES[name]

    @functools.wraps(func)  # keeps ``jinja_pass_arg`` so Jinja passes the same arguments
    def guarded(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        if name == "join":
            items = _sized_items(bound.arguments["value"])
            if bound.arguments["attribute"] is not None:
                environment = bound.arguments["eval_ctx"].environment
                getter = make_attrgetter(environment, bound.arguments["attribute"])
                items = [getter(item) for item in items]
                bound.arguments["attribute"] = None
            bound.arguments["value"] = items
        limits.ensure_size(estimate(bound.arguments), f"the {name!r} filter")
        return func(*bound.args, **bound.kwargs)

    return guarded


def guarded_range(*args: int) -> range:
    """``range`` capped at :data:`limits.MAX_RANGE` items."""
    result = range(*args)
    if len(result) > limits.MAX_RANGE:
        raise limits.LimitHit(
            f"range() of {len(result):,} items is over the limit of {limits.MAX_RANGE:,}"
        )
    return result


def guarded_lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    """``lipsum`` with its output size checked (up to ``n * max`` words of ~10 characters)."""
    limits.ensure_size(int(n) * int(max) * 10, "lipsum()")
    return str(generate_lorem_ipsum(n, html, min, max))


def dump(value: object, spaces: int | str | None = None) -> str:
    """Nunjucks' ``dump`` (``JSON.stringify(value, null, spaces)``), in promptfoo's templates."""
    if spaces is None:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return json.dumps(value, ensure_ascii=False, indent=spaces, default=str)


def load(text: str) -> Any:
    """promptfoo's ``load`` filter (``JSON.parse``): JSON text to data."""
    try:
        return json.loads(str(text))
    except ValueError as exc:
        raise ValueError(f"the 'load' filter was given text that is not JSON ({exc})") from None


class GuardedCodeGenerator(CodeGenerator):
    """Jinja's code generator, except that ``~`` concatenation is size-checked first."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            func_name = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            func_name = "markup_join"
        else:
            func_name = "str_join"
        self.write(f"{func_name}(environment.checked_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write(")))")


class GuardedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox plus size pre-checks on amplifying operations."""

    code_generator_class = GuardedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self) -> None:
        super().__init__(
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            finalize=taint,
            optimized=False,  # constant folding would run template code while compiling
        )
        self.globals["range"] = guarded_range
        self.globals["lipsum"] = guarded_lipsum
        self.filters |= {"dump": dump, "load": load}  # promptfoo's Nunjucks has them
        for name in _FILTER_SIZES:
            self.filters[name] = _guard_filter(name, self.filters[name])

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        limits.ensure_size(limits.binop_size(operator, left, right), f"the {operator!r} operator")
        return super().call_binop(context, operator, left, right)

    def checked_concat(self, parts: tuple[Any, ...]) -> tuple[Any, ...]:
        """Refuse a ``~`` chain whose joined text would be too long (called by compiled code)."""
        limits.ensure_size(sum(limits.rendered_length(part) for part in parts), "the '~' operator")
        return parts

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Pre-check amplifying str methods (``'x'.ljust(10**9)``) before calling them."""
        target = getattr(obj, "__wrapped__", obj)  # the sandbox wraps str.format
        owner = getattr(target, "__self__", None)
        name = getattr(target, "__name__", "")
        if isinstance(owner, str) and name in _METHOD_SIZES:
            if name == "join" and args:
                args = (_sized_items(args[0]), *args[1:])
            size = _METHOD_SIZES[name](owner, args, kwargs)
            limits.ensure_size(size, f"str.{name}()")
        return super().call(context, obj, *args, **kwargs)


@functools.cache
def environment() -> GuardedSandbox:
    """The shared environment (thread-safe to use; templates compile per render)."""
    return GuardedSandbox()
