"""Run-engine overhead against the raw openai SDK, side by side on the same fake server.

Run by hand: ``.venv/bin/python bench/bench_engine.py [--reps 9] [--streams 8] [--tokens 2000]``

Each repetition streams ``--streams`` concurrent chat completions of ``--tokens`` tokens
each, as fast as the server sends them, twice: once with the raw SDK (one ``AsyncOpenAI``
client built before the clock starts, ``async for`` over each stream's typed chunks, as a
careful user of the SDK would write it) and once through ``RunSession`` (one provider and
client per target, our timeouts, retry policy, typed events and an ``on_update`` callback
per token, all inside the clock; the targets are sent at once, as the raw SDK's are). The
order alternates between repetitions so drift (thermal, other load) hits both alike. The
fake server runs in its own process so its GIL does not slow the client under test.

Reported per mode: the median over repetitions of the time to the last token of the
slowest stream (wall clock), the median time to last token per stream, the client
process's CPU time, which shows overhead even when the server is the bottleneck, and that
CPU time per text chunk; then the median of the per-repetition ratios (both modes run back
to back), which cancels slow drifts in machine load. The target (issue 21) is engine / raw
CPU per chunk <= 0.25.

Then the paced check (``--paced-rate``, default 1,500 tok/s): the server sends each of
the streams at that rate, by a schedule, and records when it actually sent each stream's
first and last text chunk. For every column the engine's own measured tok/s
(``TargetResult.tokens_per_second``) is compared with the rate the server actually sent;
the target is within 5 %. The raw SDK's rate, counted the same way from the arrival of its
first and last text chunk, is shown beside it.

First of all, while no SDK is imported yet, it reports the time to first token of three
identical targets on a server that waits 400 ms before the first token (issue 14: it must
be that delay, not our start-up).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import multiprocessing
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MESSAGES_RAW: list[Any] = [{"role": "user", "content": "Count."}]
TTFT_DELAY = 0.4  # what the server waits before the first token, in the TTFT check


PACED_MODEL = "paced"


def serve(tokens: int, paced: tuple[int, float], streams: int, ready: Any, commands: Any) -> None:
    """The fake server's process: script the replies, report the port, serve until told.

    ``commands`` asks for ``"sent"`` (the answers sent in full since the last ask, as
    ``(model, chunks, first_at, last_at)``, put on ``ready``) or ``"stop"``.
    """
    from tests.fake_llm import FakeLLM, Reply

    server = FakeLLM()
    server.start()
    server.script(Reply(text=" ".join(f"t{i % 100}" for i in range(tokens))))
    server.script(Reply(text="a short answer", first_token_delay=TTFT_DELAY), model="ttft")
    paced_tokens, rate = paced
    text = " ".join(f"p{i % 100}" for i in range(paced_tokens))
    for i in range(streams):
        server.script(Reply(text=text, tokens_per_second=rate), model=f"{PACED_MODEL}{i}")
    ready.put(server.base_url)
    while (command := commands.get()) != "stop":
        if command == "sent":
            with server._lock:
                sent, server.sent = server.sent, []
            ready.put([(s.model, s.chunks, s.first_at, s.last_at) for s in sent])
    server.stop()


@dataclass
class Sample:
    makespan: float  # start to the last token of the slowest stream
    per_stream: list[float]  # start to each stream's last token
    cpu: float  # client process CPU seconds
    tokens: int
    # Per stream, in order: its tokens/s as the client measured it (None: not measurable).
    rates: list[float | None] = field(default_factory=list)

    @property
    def cpu_per_chunk(self) -> float:
        return self.cpu / self.tokens


async def run_raw(base_url: str, streams: int, model: str = "bench") -> Sample:
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key="bench", max_retries=0)
    counts = [0] * streams
    first = [0.0] * streams
    last = [0.0] * streams

    async def one(i: int) -> None:
        stream = await client.chat.completions.create(
            model=f"{model}{i}" if model == PACED_MODEL else model,
            messages=MESSAGES_RAW,
            stream=True,
            stream_options={"include_usage": True},
        )
        async for chunk in stream:
            for choice in chunk.choices:
                if choice.delta.content:
                    counts[i] += 1
                    last[i] = time.perf_counter()
                    if counts[i] == 1:
                        first[i] = last[i]

    cpu0, start = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(streams)))
    cpu = time.process_time() - cpu0
    await client.close()
    per_stream = [t - start for t in last]
    # Counted as the engine counts it: the tokens after the first, over first to last.
    rates: list[float | None] = [
        (n - 1) / (b - a) if b > a else None for n, a, b in zip(counts, first, last, strict=True)
    ]
    return Sample(max(per_stream), per_stream, cpu, sum(counts), rates)


async def run_engine(base_url: str, streams: int, model: str = "bench") -> Sample:
    from promptstudio.chat import Message
    from promptstudio.providers import Endpoint
    from promptstudio.runs import RunSession, RunTarget, TargetResult

    # All at once, as the raw SDK sends them (a local server otherwise gets one at a time).
    endpoint = Endpoint(
        base_url=base_url, api_key="bench", name="bench", max_retries=0, max_concurrent=streams
    )
    targets = [
        RunTarget(
            key=f"t{i}", endpoint=endpoint, model=f"{model}{i}" if model == PACED_MODEL else model
        )
        for i in range(streams)
    ]
    last: dict[str, float] = {}
    buffers: dict[str, list[str]] = {t.key: [] for t in targets}

    def on_update(key: str, result: TargetResult, delta: str) -> None:
        if delta:  # what the UI does: append to a buffer its timer flushes
            buffers[key].append(delta)
            last[key] = time.perf_counter()

    session = RunSession([Message("user", "Count.")], targets, on_update=on_update)
    cpu0, start = time.process_time(), time.perf_counter()
    results = await session.run()
    cpu = time.process_time() - cpu0
    failed = [r for r in results.values() if r.error is not None]
    if failed:
        raise SystemExit(f"engine run failed: {failed[0].error}")
    per_stream = [last[t.key] - start for t in targets]
    tokens = sum(r.output_chunks for r in results.values())
    rates = [results[t.key].tokens_per_second for t in targets]
    return Sample(max(per_stream), per_stream, cpu, tokens, rates)


async def engine_ttfts(base_url: str, at_once: int | None) -> list[float]:
    """TTFTs of three identical targets on a server that waits TTFT_DELAY."""
    from promptstudio.chat import Message
    from promptstudio.providers import Endpoint
    from promptstudio.runs import RunSession, RunTarget

    endpoint = Endpoint(base_url=base_url, name="bench", max_retries=0, max_concurrent=at_once)
    targets = [RunTarget(key=f"t{i}", endpoint=endpoint, model="ttft") for i in range(3)]
    results = await RunSession([Message("user", "Hi.")], targets).run()
    return [r.ttft_ms or float("nan") for r in results.values()]


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


PacedRun = tuple[str, Sample, list[tuple[str, int, float, float]]]


def paced_rows(runs: list[PacedRun], streams: int) -> list[str]:
    """Per mode: the columns' measured tok/s against what the server sent, worst case."""
    rows = []
    worst_per_rep: dict[str, list[str]] = {"raw SDK": [], "engine": []}
    for name in ("raw SDK", "engine"):
        sent_rates: list[float] = []
        measured: list[float] = []
        errors: list[float] = []
        missing = 0
        for mode, sample, sent in runs:
            if mode != name:
                continue
            by_model = {model: (n - 1) / (b - a) for model, n, a, b in sent if b > a}
            rep_errors = []
            for i, rate in enumerate(sample.rates):
                server = by_model.get(f"{PACED_MODEL}{i}")
                if rate is None or server is None:
                    missing += 1
                    continue
                sent_rates.append(server)
                measured.append(rate)
                rep_errors.append(rate / server - 1)
            errors += rep_errors
            if rep_errors:
                worst_per_rep[name].append(f"{max(rep_errors, key=abs) * 100:+.1f}")
        if not errors:
            rows.append(f"| {name} | - | - | - | - | no column measured ({missing} missing) |")
            continue
        worst = max(errors, key=abs)
        within = sum(abs(e) <= 0.05 for e in errors)
        verdict = "ok" if within == len(errors) else f"{within} of {len(errors)} columns within"
        rows.append(
            f"| {name} | {statistics.median(sent_rates):.0f} | {statistics.median(measured):.0f}"
            f" | {statistics.median(errors) * 100:+.1f} % | {worst * 100:+.1f} % | "
            f"{' / '.join(worst_per_rep[name])} | {verdict}"
            f"{f' ({missing} not measured)' if missing else ''} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--streams", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--paced-rate", type=float, default=1500.0, help="tok/s per stream")
    parser.add_argument("--paced-tokens", type=int, default=3000)
    parser.add_argument("--paced-reps", type=int, default=3)
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    commands = context.Queue()
    paced = (args.paced_tokens, args.paced_rate)
    server = context.Process(
        target=serve, args=(args.tokens, paced, args.streams, ready, commands), daemon=True
    )
    server.start()
    base_url = ready.get(timeout=30)
    paced_runs: list[PacedRun] = []
    try:
        # First, in this fresh process (no SDK imported yet): time to first token.
        ttft_first = asyncio.run(engine_ttfts(base_url, None))
        ttft_at_once = asyncio.run(engine_ttfts(base_url, 3))
        runs: dict[str, list[Sample]] = {"raw SDK": [], "engine": []}
        modes = {"raw SDK": run_raw, "engine": run_engine}
        for run in modes.values():  # warm-up: imports, TLS context, first connections
            asyncio.run(run(base_url, args.streams))
        for rep in range(args.reps):
            order = list(modes) if rep % 2 == 0 else list(reversed(modes))
            for name in order:
                sample = asyncio.run(modes[name](base_url, args.streams))
                expected = args.streams * args.tokens
                if sample.tokens != expected:
                    raise SystemExit(f"{name}: {sample.tokens} tokens, expected {expected}")
                runs[name].append(sample)
                print(
                    f"rep {rep + 1}/{args.reps} {name:8}: last token {sample.makespan * 1000:7.1f}"
                    f" ms, client CPU {sample.cpu * 1000:7.1f} ms,"
                    f" {sample.cpu_per_chunk * 1e6:5.1f} µs/chunk",
                    flush=True,
                )
        commands.put("sent")
        ready.get(timeout=30)  # forget the answers sent so far
        for rep in range(args.paced_reps):
            order = list(modes) if rep % 2 == 0 else list(reversed(modes))
            for name in order:
                sample = asyncio.run(modes[name](base_url, args.streams, PACED_MODEL))
                commands.put("sent")
                sent = ready.get(timeout=30)
                paced_runs.append((name, sample, sent))
                print(
                    f"paced {rep + 1}/{args.paced_reps} {name:8}: last token "
                    f"{sample.makespan * 1000:7.1f} ms, client CPU {sample.cpu * 1000:7.1f} ms",
                    flush=True,
                )
    finally:
        commands.put("stop")
        server.join(timeout=10)

    raw, engine = runs["raw SDK"], runs["engine"]
    raw_last = median_ms([s.makespan for s in raw])
    eng_last = median_ms([s.makespan for s in engine])
    raw_stream = median_ms([t for s in raw for t in s.per_stream])
    eng_stream = median_ms([t for s in engine for t in s.per_stream])
    raw_cpu = median_ms([s.cpu for s in raw])
    eng_cpu = median_ms([s.cpu for s in engine])
    raw_chunk = statistics.median(s.cpu_per_chunk for s in raw) * 1e6
    eng_chunk = statistics.median(s.cpu_per_chunk for s in engine) * 1e6
    # Each repetition runs both modes back to back: their ratio cancels slow drifts in load.
    paired = statistics.median(e.makespan / r.makespan for r, e in zip(raw, engine, strict=True))
    paired_cpu = statistics.median(e.cpu / r.cpu for r, e in zip(raw, engine, strict=True))
    uname = os.uname()
    print()
    print(f"Machine: {os.cpu_count()} cores, `{uname.sysname} {uname.release} {uname.machine}`,")
    print(
        f"Python {platform.python_version()}, {datetime.date.today().isoformat()}, load average "
        f"{load_before:.1f} at the start and {os.getloadavg()[0]:.1f} at the end (other work "
        "on the machine takes CPU from both modes alike, but makes the paced check harder)."
    )
    print(
        f"{args.streams} concurrent streams x {args.tokens} tokens, as fast as the server "
        f"sends, {args.reps} repetitions (medians):"
    )
    print()
    print("| | raw openai SDK | run engine | engine / raw |")
    print("|---|---:|---:|---:|")
    print(
        f"| time to last token, slowest stream | {raw_last:.0f} ms | {eng_last:.0f} ms | "
        f"{eng_last / raw_last:.3f}x |"
    )
    print(
        f"| time to last token, per stream | {raw_stream:.0f} ms | {eng_stream:.0f} ms | "
        f"{eng_stream / raw_stream:.3f}x |"
    )
    print(f"| client CPU time | {raw_cpu:.0f} ms | {eng_cpu:.0f} ms | {eng_cpu / raw_cpu:.3f}x |")
    verdict = "ok" if paired_cpu <= 0.25 else "over the 0.25 target"
    print(
        f"| client CPU per text chunk | {raw_chunk:.1f} µs | {eng_chunk:.1f} µs | "
        f"{eng_chunk / raw_chunk:.3f}x ({verdict}) |"
    )
    print()
    print(
        f"Median of the per-repetition ratios: {paired:.3f}x time to last token, "
        f"{paired_cpu:.3f}x client CPU (per chunk alike: both modes get the same chunks)."
    )
    print()
    print(
        f"Paced: {args.streams} streams x {args.paced_tokens} tokens at "
        f"{args.paced_rate:g} tok/s each, {args.paced_reps} repetitions; each column's "
        "measured tok/s against the rate the server actually sent it at:"
    )
    print()
    print(
        "| client | sent tok/s | measured tok/s | error, median | error, worst | "
        "worst per repetition, % | target 5 % |"
    )
    print("|---|---:|---:|---:|---:|---|---|")
    for row in paced_rows(paced_runs, args.streams):
        print(row)
    print()
    shown = " / ".join
    print(
        f"Time to first token, 3 identical targets, server waits {TTFT_DELAY * 1000:.0f} ms, "
        "the process's first run (SDK not yet imported): "
        f"{shown(f'{t:.0f}' for t in ttft_first)} ms (one at a time, a local server's "
        f"default); then sent at once: {shown(f'{t:.0f}' for t in ttft_at_once)} ms."
    )


if __name__ == "__main__":
    main()
