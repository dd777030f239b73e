"""promptfoo's ``python`` check: the user's code, run in a separate, time-limited process.

As promptfoo documents it, a one-line value is an expression and a longer one the body of
a function; both see ``output`` (the answer's text) and ``context`` (``prompt`` and
``vars``). The result may be a bool (pass or fail), a number (the score: it passes at the
check's ``threshold``, else when above 0) or a mapping ``{pass, score, reason}``.

The code runs in ``sys.executable -I`` (isolated: no user site, no environment paths, no
current directory on the path) with a time limit and a cap on what it may print back. A
timeout, an exception or an unreadable result is a failed check with the reason, never a
failed evaluation. This is not a sandbox: the code can do what the user can, which is why
it runs only when the user turned code checks on in Settings (an imported config cannot).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from dataclasses import dataclass
from typing import Any, Final

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = 5.0
MAX_OUTPUT_BYTES: Final = 64 * 1024

# Reads {code, output, context} on stdin and writes one JSON line; the user's own prints go
# to stderr so they cannot be mistaken for the result.
_RUNNER: Final = r"""
import json, sys, traceback
real_out = sys.stdout
sys.stdout = sys.stderr
job = json.load(sys.stdin)
code, output, context = job["code"], job["output"], job["context"]
try:
    if "\n" in code.strip() or code.strip().startswith("return "):
        body = "\n".join("    " + line for line in code.strip().splitlines())
        scope = {}
        exec("def main(output, context):\n" + body, scope)
        result = scope["main"](output, context)
    else:
        result = eval(code, {"output": output, "context": context})
    answer = {"result": result}
    text = json.dumps(answer, default=repr)
except BaseException as exc:
    lines = traceback.format_exception_only(type(exc), exc)
    text = json.dumps({"exception": "".join(lines).strip()})
real_out.write(text)
real_out.flush()
"""


@dataclass(frozen=True)
class CodeOutcome:
    """What the code said: a verdict, or an error (timeout, exception, bad result)."""

    passed: bool = False
    score: float = 0.0
    reason: str = ""
    error: str | None = None


async def run_python_check(
    code: str,
    output: str,
    context: dict[str, Any],
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> CodeOutcome:
    """Run ``code`` on ``output`` in a new isolated interpreter; never raises for its faults."""
    job = json.dumps({"code": code, "output": output, "context": context}).encode()
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            "-c",
            _RUNNER,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        return CodeOutcome(error=f"The Python check could not start: {exc}.")
    try:
        raw, errors = await asyncio.wait_for(_talk(process, job), timeout)
    except TimeoutError:
        return CodeOutcome(error=f"The Python check did not finish within {timeout:g} s.")
    finally:
        await _stop(process)
    if raw is None:
        return CodeOutcome(
            error=f"The Python check printed more than {MAX_OUTPUT_BYTES // 1024} kB."
        )
    return _outcome(raw, errors)


async def _talk(process: asyncio.subprocess.Process, job: bytes) -> tuple[bytes | None, bytes]:
    """Send the job and read both pipes to their end, keeping at most the limit of each;
    more than the limit on stdout kills the process and gives None."""
    assert process.stdin is not None and process.stdout is not None
    assert process.stderr is not None
    process.stdin.write(job)
    with contextlib.suppress(ConnectionError):
        await process.stdin.drain()
    process.stdin.close()
    raw, errors = await asyncio.gather(_read(process.stdout, process), _read(process.stderr, None))
    await process.wait()
    return raw, errors or b""


async def _read(
    stream: asyncio.StreamReader, process: asyncio.subprocess.Process | None
) -> bytes | None:
    """Everything ``stream`` gives until its end, or None past the limit (then ``process``,
    when given, is killed; the rest is read and dropped so the pipe can close)."""
    kept = bytearray()
    over = False
    while chunk := await stream.read(65536):
        if over:
            continue
        kept += chunk
        if len(kept) > MAX_OUTPUT_BYTES:
            over = True
            if process is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
    if over and process is not None:
        return None
    return bytes(kept[:MAX_OUTPUT_BYTES])


async def _stop(process: asyncio.subprocess.Process) -> None:
    """Kill the process if it still runs and wait for it, its pipes drained."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(_read(stream, None), 5)
    await process.wait()


def _outcome(raw: bytes, errors: bytes) -> CodeOutcome:
    try:
        said = json.loads(raw.decode("utf-8", "replace"))
    except ValueError:
        tail = errors.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no result"]
        return CodeOutcome(error=f"The Python check stopped without a result: {tail[0]}")
    if "exception" in said:
        return CodeOutcome(error=f"The Python check raised {said['exception']}")
    return _verdict(said.get("result"))


def _verdict(result: object) -> CodeOutcome:
    if isinstance(result, bool):
        word = "passed" if result else "failed"
        return CodeOutcome(result, float(result), f"The Python check returned {result}: {word}.")
    if isinstance(result, int | float):
        score = float(result)
        return CodeOutcome(score > 0, score, f"The Python check returned the score {score:g}.")
    if isinstance(result, dict) and "pass" in result:
        passed = bool(result["pass"])
        raw_score = result.get("score")
        score = float(raw_score) if isinstance(raw_score, int | float) else float(passed)
        reason = str(
            result.get("reason") or f"The Python check {'passed' if passed else 'failed'}."
        )
        return CodeOutcome(passed, score, reason)
    return CodeOutcome(
        error=f"The Python check returned {result!r}: a bool, a number or {{pass, score, reason}} "
        "was expected."
    )
