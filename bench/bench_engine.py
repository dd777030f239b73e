"""Run-engine overhead against the raw openai SDK, side by side on the same fake server.

Run by hand: ``.venv/bin/python bench/bench_engine.py [--reps 9] [--streams 8] [--tokens 2000]``

Each repetition streams ``--streams`` concurrent chat completions of ``--tokens`` tokens
each, as fast as the server sends them, twice: once with the raw SDK (one ``AsyncOpenAI``
client built before the clock starts, ``async for`` over each stream, as a careful user of
the SDK would write it) and once through ``RunSession`` (one provider and client per
target, our timeouts, retry policy, typed events and an ``on_update`` callback per token,
all inside the clock; the targets are sent at once, as the raw SDK's are). The order
alternates between repetitions so drift (thermal, other load) hits both alike. The fake
server runs in its own process so its GIL does not slow the client under test.

Reported per mode: the median over repetitions of the time to the last token of the
slowest stream (wall clock), the median time to last token per stream, and the client
process's CPU time, which shows overhead even when the server is the bottleneck; then the
median of the per-repetition ratios (both modes run back to back), which cancels slow
drifts in machine load. First of all, while no SDK is imported yet, it reports the time
to first token of three identical targets on a server that waits 400 ms before the first
token (issue 14: it must be that delay, not our start-up).
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MESSAGES_RAW: list[Any] = [{"role": "user", "content": "Count."}]
TTFT_DELAY = 0.4  # what the server waits before the first token, in the TTFT check


def serve(tokens: int, ready: Any, stop: Any) -> None:
    """The fake server's process: script one long reply, report the port, serve until told."""
    from tests.fake_llm import FakeLLM, Reply

    server = FakeLLM()
    server.start()
    server.script(Reply(text=" ".join(f"t{i % 100}" for i in range(tokens))))
    server.script(Reply(text="a short answer", first_token_delay=TTFT_DELAY), model="ttft")
    ready.put(server.base_url)
    stop.wait()
    server.stop()


@dataclass
class Sample:
    makespan: float  # start to the last token of the slowest stream
    per_stream: list[float]  # start to each stream's last token
    cpu: float  # client process CPU seconds
    tokens: int


async def run_raw(base_url: str, streams: int) -> Sample:
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key="bench", max_retries=0)
    counts = [0] * streams
    last = [0.0] * streams

    async def one(i: int) -> None:
        stream = await client.chat.completions.create(
            model="bench",
            messages=MESSAGES_RAW,
            stream=True,
            stream_options={"include_usage": True},
        )
        async for chunk in stream:
            for choice in chunk.choices:
                if choice.delta.content:
                    counts[i] += 1
                    last[i] = time.perf_counter()

    cpu0, start = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(streams)))
    cpu = time.process_time() - cpu0
    await client.close()
    per_stream = [t - start for t in last]
    return Sample(max(per_stream), per_stream, cpu, sum(counts))


async def run_engine(base_url: str, streams: int) -> Sample:
    from promptstudio.chat import Message
    from promptstudio.providers import Endpoint
    from promptstudio.runs import RunSession, RunTarget, TargetResult

    # All at once, as the raw SDK sends them (a local server otherwise gets one at a time).
    endpoint = Endpoint(
        base_url=base_url, api_key="bench", name="bench", max_retries=0, max_concurrent=streams
    )
    targets = [RunTarget(key=f"t{i}", endpoint=endpoint, model="bench") for i in range(streams)]
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
    return Sample(max(per_stream), per_stream, cpu, tokens)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--streams", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=2000)
    args = parser.parse_args()

    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    stop = context.Event()
    server = context.Process(target=serve, args=(args.tokens, ready, stop), daemon=True)
    server.start()
    base_url = ready.get(timeout=30)
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
                    f" ms, client CPU {sample.cpu * 1000:7.1f} ms",
                    flush=True,
                )
    finally:
        stop.set()
        server.join(timeout=10)

    raw, engine = runs["raw SDK"], runs["engine"]
    raw_last = median_ms([s.makespan for s in raw])
    eng_last = median_ms([s.makespan for s in engine])
    raw_stream = median_ms([t for s in raw for t in s.per_stream])
    eng_stream = median_ms([t for s in engine for t in s.per_stream])
    raw_cpu = median_ms([s.cpu for s in raw])
    eng_cpu = median_ms([s.cpu for s in engine])
    # Each repetition runs both modes back to back: their ratio cancels slow drifts in load.
    paired = statistics.median(e.makespan / r.makespan for r, e in zip(raw, engine, strict=True))
    paired_cpu = statistics.median(e.cpu / r.cpu for r, e in zip(raw, engine, strict=True))
    uname = os.uname()
    print()
    print(f"Machine: {os.cpu_count()} cores, `{uname.sysname} {uname.release} {uname.machine}`,")
    print(f"Python {platform.python_version()}, {datetime.date.today().isoformat()}.")
    print(
        f"{args.streams} concurrent streams x {args.tokens} tokens, {args.reps} repetitions "
        "(medians):"
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
    print()
    print(
        f"Median of the per-repetition ratios: {paired:.3f}x time to last token, "
        f"{paired_cpu:.3f}x client CPU."
    )
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
