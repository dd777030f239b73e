"""Rendering a template into chat messages, with size and time caps.

The sandbox stops templates from reaching Python internals but bounds neither CPU nor
memory, so a render runs in a worker thread that streams the output and stops past
``max_output_chars``; at the deadline an exception is injected into the worker
(``PyThreadState_SetAsyncExc``). Size pre-checks in the environment stop single huge
operations, which an injected exception cannot interrupt.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from collections.abc import Callable, Generator, Mapping
from pathlib import Path
from types import TracebackType
from typing import cast

from jinja2 import Template
from jinja2.exceptions import UndefinedError

from promptstudio.chat import Image, Message
from promptstudio.images import ImageReader
from promptstudio.templating import limits as size
from promptstudio.templating.errors import (
    ImageRefused,
    NothingToSend,
    RenderLimitExceeded,
    TemplateError,
)
from promptstudio.templating.limits import DEFAULT_LIMITS, LimitHit, RenderLimits
from promptstudio.templating.parsing import (
    ParsedTemplate,
    compile_template,
    parse,
    quoted_name_column,
)
from promptstudio.templating.roles import split_messages
from promptstudio.templating.source import (
    OUTPUT_END,
    SENTINEL,
    TEMPLATE_NAME,
    LineIndex,
    defuse,
    normalise,
)
from promptstudio.templating.threads import ThreadValue, with_threads

log = logging.getLogger(__name__)

#: How long to wait for a worker to stop once the deadline exception is injected.
_STOP_GRACE_SECONDS = 0.5
_REINJECT_SECONDS = 0.02


class _Deadline(BaseException):
    """Injected into a render thread that ran out of time (BaseException: nothing swallows it)."""


def render_messages(
    source: str,
    values: Mapping[str, object],
    limits: RenderLimits = DEFAULT_LIMITS,
    *,
    allow_empty: bool = False,
    base_dir: Path | None = None,
    images: ImageReader | None = None,
) -> list[Message]:
    """Render ``source`` with ``values`` and split it into chat messages.

    See :func:`~promptstudio.templating.roles.split_messages` for the splitting rules;
    messages left empty after stripping blank lines are dropped.
    Raises :class:`TemplateError` for syntax and runtime errors (positioned in the
    newline-normalised source), :class:`RenderLimitExceeded` when a cap is hit, and
    :class:`NothingToSend` when no message is left, unless ``allow_empty`` (for callers
    that only show or export the messages, never send them). ``![alt](SOURCE)`` becomes an
    image part, read and checked here (:class:`ImageRefused` when it cannot be sent);
    relative image paths are read from ``base_dir`` (None: the current directory), or
    ``images`` reads them (which also knows a stored version's images, see ``ImageReader``).
    """
    rendered, threads = _render(source, values, limits)
    try:
        messages = split_messages(rendered, threads, images or ImageReader(base_dir))
    except ImageRefused as exc:
        text = normalise(source)
        at = text.find(exc.markup) if exc.markup else -1
        if at >= 0:
            exc.line, exc.column = LineIndex(text).position(at)
        raise
    if not messages and not allow_empty:
        raise NothingToSend()
    return messages


def sent_images(
    source: str, values: Mapping[str, object], *, images: ImageReader | None = None
) -> list[Image]:
    """The images ``source`` sends with ``values``, in order (none when it does not render):
    what a version stores with a run, a save or an evaluation."""
    if "![" not in source:  # no image markup: nothing to render for
        return []
    try:
        messages = render_messages(source, values, allow_empty=True, images=images)
    except TemplateError:
        return []
    return [image for message in messages for image in message.images]


def render_text(
    source: str, values: Mapping[str, object], limits: RenderLimits = DEFAULT_LIMITS
) -> str:
    """Render ``source`` as plain text, role markers and all (a check's value, say), with
    the same sandbox, caps and errors as :func:`render_messages`."""
    return _render(source, values, limits)[0].replace(SENTINEL, "").replace(OUTPUT_END, "")


def _render(
    source: str, values: Mapping[str, object], limits: RenderLimits
) -> tuple[str, list[ThreadValue]]:
    """The rendered output, its ``{{ }}`` output tainted (see ``environment.taint``), and
    the thread values that expand into turns (for ``split_messages``)."""
    text = normalise(source)
    too_big = size.input_problem(text, limits)
    if too_big is not None:
        message, offset = too_big
        line = text.count("\n", 0, offset) + 1  # not a LineIndex: the text may be huge
        raise RenderLimitExceeded(message, line, offset - text.rfind("\n", 0, offset))
    context, threads = with_threads(values)  # thread values expand into turns
    job = _Job()

    def work() -> str:  # parsing and compiling too, so the deadline covers them
        job.parsed = parse(defuse(text))
        job.template = compile_template(job.parsed)
        return _generate(job.template, context, limits.max_output_chars)

    worker = _RenderWorker(work)
    worker.start()
    worker.join(limits.timeout_seconds)
    if worker.interrupt():
        if not worker.stop_within(_STOP_GRACE_SECONDS):
            log.warning("a render thread did not stop after its deadline")
        error: BaseException | None = worker.error
        if not isinstance(error, _Deadline):
            error = _Deadline()
        raise _as_template_error(error, job, limits) from None
    if worker.error is not None:
        raise _as_template_error(worker.error, job, limits) from None
    return worker.result, threads


def _generate(template: Template, context: dict[str, object], max_chars: int) -> str:
    """Stream the output, stopping inside the template as soon as it grows too long."""
    size.size_limit.set(max(max_chars, 0))  # this thread's own context
    chunks: list[str] = []
    total = 0
    stream = cast(Generator[str, None, None], template.generate(context))
    for chunk in stream:
        total += len(chunk) - chunk.count(SENTINEL) - chunk.count(OUTPUT_END)
        if total > max_chars:
            # Thrown into the generator so the traceback names the template line.
            stream.throw(LimitHit(f"the output is longer than {max_chars:,} characters"))
        chunks.append(chunk)
    return "".join(chunks)


class _Job:
    """What the render thread made so far, for positioning its errors."""

    parsed: ParsedTemplate | None = None
    template: Template | None = None


class _RenderWorker(threading.Thread):
    """Runs one render; can be interrupted at most once, only while it is still working."""

    def __init__(self, work: Callable[[], str]) -> None:
        super().__init__(name="promptstudio-render", daemon=True)
        self._work = work
        self._lock = threading.Lock()
        self._finished = False
        self.result = ""
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            try:
                result, error = self._work(), None
            except BaseException as exc:  # reported to the caller, _Deadline included
                result, error = "", exc
            with self._lock:
                self.result, self.error, self._finished = result, error, True
        except _Deadline:
            pass  # injected after the work ended; the caller reports the timeout anyway

    def interrupt(self) -> bool:
        """Inject :class:`_Deadline` if the render hasn't finished; True if it was injected."""
        with self._lock:
            if self._finished or self.ident is None:
                return False
            thread_id = ctypes.c_ulong(self.ident)
            hit = ctypes.pythonapi.PyThreadState_SetAsyncExc(thread_id, ctypes.py_object(_Deadline))
            if hit > 1:  # never expected; the C API asks to undo it then
                ctypes.pythonapi.PyThreadState_SetAsyncExc(thread_id, None)
            return hit == 1

    def stop_within(self, grace: float) -> bool:
        """Wait up to ``grace`` seconds for an interrupted render to end; True if it did.

        The deadline is injected again while the render runs on: when the garbage collector
        runs a finaliser on this thread (an HTTP client's ``__del__``, say) and the
        exception lands inside it, Python reports it as unraisable and the render goes on."""
        ends = time.monotonic() + grace
        while True:
            self.join(max(min(_REINJECT_SECONDS, ends - time.monotonic()), 0))
            if not self.is_alive():
                return True
            if time.monotonic() >= ends:
                return False
            self.interrupt()


def _template_line(exc: BaseException, template: Template | None) -> int | None:
    """The innermost template line in ``exc``'s traceback.

    Jinja rewrites tracebacks of ``Exception``s so template frames carry template line
    numbers; an injected ``_Deadline`` is not rewritten, so map its Python line back.
    """
    line = None
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == TEMPLATE_NAME:
            line = tb.tb_lineno
            if not isinstance(exc, Exception) and template is not None:
                line = template.get_corresponding_lineno(line)
        tb = tb.tb_next
    return line


def _as_template_error(exc: BaseException, job: _Job, limits: RenderLimits) -> TemplateError:
    """Map anything the worker raised to a positioned :class:`TemplateError`."""
    line = _template_line(exc, job.template) or 1
    if isinstance(exc, _Deadline):
        seconds = f"{limits.timeout_seconds:g}"
        return RenderLimitExceeded(f"rendering took longer than {seconds} s", line, 1)
    if isinstance(exc, LimitHit | RecursionError | MemoryError):
        message = {
            RecursionError: "the template recursed too deeply",
            MemoryError: "the template needed too much memory",
        }.get(type(exc), str(exc))
        return RenderLimitExceeded(message, line, 1)
    if isinstance(exc, TemplateError):
        return exc
    message = str(exc) or type(exc).__name__
    parsed = job.parsed
    if parsed is None:
        return TemplateError(message, line, 1)
    column = 0
    if isinstance(exc, UndefinedError) and message.endswith(" is undefined"):
        name = message[: -len(" is undefined")].strip("'\"")
        column = _load_column(parsed, name, line)
    if not column:
        column = quoted_name_column(parsed.lines, line, message)
    return TemplateError(message, line, column)


def _load_column(parsed: ParsedTemplate, name: str, line: int) -> int:
    """Column of the first load of variable ``name`` on ``line``, or 0."""
    columns = [
        parsed.lines.position(offset)[1]
        for node, offset in parsed.name_offsets.items()
        if node.name == name and node.ctx == "load" and parsed.lines.position(offset)[0] == line
    ]
    return min(columns, default=0)
