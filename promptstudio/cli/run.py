"""``promptstudio run``: one prompt on several models at once, recorded like a GUI run.

Each ``--model`` goes to the endpoint named last before it (``--base-url URL`` or
``--profile ID``); models given before any endpoint use the first one. A ``.prompty``,
``.json`` or promptfoo file brings its own template, values and run columns, so
``promptstudio run summary.prompty`` runs it exactly as exported; ``--model`` replaces the
columns and ``--var`` overrides values (JSON parsed: a list of ``{role, content}`` turns
is a thread, expanded where ``{{ name }}`` stands alone on its line). One model streams to
stdout; several print each answer when all are done, with progress on stderr. Each
``--turn TEXT`` continues the conversation: after the answer it is sent as the next user
turn, with everything before it, and the reply is recorded with the run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptstudio.cli import CliError, prompt_dir
from promptstudio.cli.options import add_generation_options
from promptstudio.durations import format_ms

if TYPE_CHECKING:
    from promptstudio.chat import Message
    from promptstudio.exchange import PromptDocument
    from promptstudio.providers.pricing import PriceTable
    from promptstudio.runs import RunSession, RunTarget, TargetResult
    from promptstudio.runs.columns import ColumnConfig
    from promptstudio.runs.thread import Thread
    from promptstudio.tools import ToolDef

PLAIN_TEMPLATE_SUFFIXES = (".txt", ".j2", ".jinja", ".jinja2", ".prompt", "")


@dataclass(frozen=True, slots=True)
class Place:
    """Where a model is: a base URL or a profile id."""

    kind: str  # "url" | "profile"
    value: str


class _SetPlace(argparse.Action):
    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        place = Place("url" if self.dest == "base_url" else "profile", str(values))
        namespace.place = place
        if getattr(namespace, "first_place", None) is None:
            namespace.first_place = place


class _AddModel(argparse.Action):
    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        models = list(getattr(namespace, "models", None) or [])
        models.append((getattr(namespace, "place", None), str(values)))
        namespace.models = models


def add_run_command(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    run = commands.add_parser(
        "run",
        parents=parents,
        help="run a prompt on one or more models and record it",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    run.set_defaults(models=[], place=None, first_place=None)
    add_model_options(run, "a model to run on (repeat for several, side by side)")
    run.add_argument("--prompt", metavar="NAME", help="library prompt to record under")
    run.add_argument("--samples", type=_samples, metavar="N",
                     help="answers per model, as the board's Samples box (default: the "
                     "file's own columns say, else 1)")  # fmt: skip
    add_generation_options(run)
    run.add_argument("--tool-steps", type=_samples, metavar="N", default=0,
                     help="answer tool calls with the prompt's mock results, up to N answers "
                     "per model in all (default: stop at the first answer)")  # fmt: skip
    run.add_argument("--turn", action="append", default=[], dest="turns", metavar="TEXT",
                     help="after the answer, send TEXT as the next user turn (repeat to go "
                     "on): the conversation is recorded with the run")  # fmt: skip
    run.add_argument("--json", action="store_true",
                     help="print a JSON summary, not the text (with the conversation)")  # fmt: skip
    from promptstudio.cli.batches import add_batch_options

    add_batch_options(run)  # the samples as provider batches (cli/batches.py batch_run)


def add_model_options(parser: argparse.ArgumentParser, model_help: str) -> None:
    """``--base-url``/``--profile`` and the ``--model``s that go to the one named last."""
    parser.add_argument("--base-url", action=_SetPlace, metavar="URL",
                        help="a server, e.g. http://localhost:11434/v1")  # fmt: skip
    parser.add_argument("--profile", action=_SetPlace, metavar="ID",
                        help="a provider profile (see `providers list`)")  # fmt: skip
    parser.add_argument("--model", action=_AddModel, metavar="NAME", help=model_help)


def run(args: argparse.Namespace) -> int:
    from promptstudio import templating
    from promptstudio.cli.tool_steps import answer_tool_calls, last_results
    from promptstudio.exchange.document import template_location, version_settings
    from promptstudio.paths import data_dir, database_path
    from promptstudio.runs import RunSession, TargetStatus
    from promptstudio.runs.checkpoint import ResponseCheckpoints
    from promptstudio.runs.thread import Thread, step_fields
    from promptstudio.storage import Database, StorageError, library

    doc = load_document(args)
    values: dict[str, object] = {**doc.variables, **args.values}
    try:
        messages = templating.render_messages(doc.template, values, base_dir=prompt_dir(args.file))
    except templating.TemplateError as exc:
        where = template_location(doc, args.file, exc.line, exc.column)
        raise CliError(f"{where}: {exc.message}") from exc
    columns = _columns(args, doc)
    if args.batch or args.wait:
        from promptstudio.cli.batches import batch_run

        if not args.batch:
            raise CliError("--wait polls batches: give --batch too", 2)
        return batch_run(args, doc, values, columns)
    targets = _targets(args, columns)
    settings = version_settings(columns, doc.tools)
    name = args.prompt or doc.name

    with Database(database_path(data_dir(args.data_dir))) as db:
        try:
            prompt = next((p for p in db.call(library.list_prompts) if p.name == name), None)
            if prompt is None:
                prompt = db.call(library.create_prompt, name, doc.folder or "CLI")
            version = db.call(
                library.save_version,
                prompt.id,
                doc.template,
                values,
                settings,
                kind="run",
                images=[image for message in messages for image in message.images],
            )
            run_row = db.call(library.record_run, version.id, values)
        except StorageError as exc:  # e.g. a read-only library: nothing is sent unrecorded
            raise CliError(f"{exc.message} Nothing was sent.") from exc
        streaming = len(targets) == 1 and not args.json

        def on_update(key: str, result: TargetResult, delta: str) -> None:
            if delta:
                if streaming:
                    sys.stdout.write(delta)
                    sys.stdout.flush()
                return
            said = _progress_line(result)
            if said is not None and (key, said) not in reported:
                reported.add((key, said))
                # One model's final line follows its streamed text, after the run.
                if not (streaming and result.status.finished):
                    print(f"  {said}", file=sys.stderr)

        reported: set[tuple[str, str]] = set()
        checkpoints = ResponseCheckpoints(db, messages)  # a kill keeps what had arrived
        checkpoints.start(run_row.id)
        session = RunSession(
            messages, [t for _, t in targets], on_update=checkpoints.watching(on_update),
            price_table=_prices(args), tools=doc.tools,
        )  # fmt: skip
        for _, target in targets:
            print(f"→ {target.model} at {target.endpoint.base_url}", file=sys.stderr)
        import asyncio

        results = asyncio.run(_run_session(session))
        not_stored: StorageError | None = None
        response_ids: dict[str, int] = {}  # target key -> its response row
        for _, target in targets:
            try:
                response_ids[target.key] = db.call(
                    checkpoints.finish_response, results[target.key]
                ).id
            except StorageError as exc:  # the answers are still printed, then this is said
                not_stored = not_stored or exc
        threads = {key: Thread.from_answer(messages, result) for key, result in results.items()}
        if args.tool_steps > 1 and doc.tools:  # tool calls answered with the mocks first
            asyncio.run(answer_tool_calls(threads, doc.tools, args.tool_steps,
                                          on_update, _prices(args)))  # fmt: skip
        if args.turns:
            conversing = _Conversation(
                threads, args.turns, on_update, _prices(args), streaming, doc.tools
            )
            asyncio.run(conversing.run())
        for key, thread in threads.items():
            for number, step in enumerate(thread.steps[1:], start=1):
                try:
                    if key in response_ids:
                        db.call(library.add_step, response_ids[key], **step_fields(step, number))
                except StorageError as exc:
                    not_stored = not_stored or exc
        results = last_results(threads)

    ordered = [(label, results[target.key]) for label, target in targets]
    if args.json:
        summaries = [
            _summary(label, result) | {"conversation": threads[target.key].to_dict()}
            for (label, result), (_, target) in zip(ordered, targets, strict=True)
        ]
        out: Any = summaries[0] if len(summaries) == 1 else summaries
        # "version" is the number History shows (v4); "version_id" the database id.
        stored = {"prompt": name, "version": version.number, "version_id": version.id,
                  "run_id": run_row.id,
                  "images": image_inputs(doc.template, values, messages)}  # fmt: skip
        if isinstance(out, dict):
            out |= stored
        else:
            out = {**stored, "answers": summaries}
        json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif streaming:
        text = ordered[0][1].text
        if text and not text.endswith("\n"):
            sys.stdout.write("\n")
        print(_status_line(ordered[0][1]), file=sys.stderr)
    else:
        for label, result in ordered:
            sys.stdout.write(f"=== {label} ===\n{result.text}")
            if not result.text.endswith("\n"):
                sys.stdout.write("\n")
    failed = [(label, r) for label, r in ordered if r.error is not None]
    for label, result in failed:
        assert result.error is not None
        print(f"promptstudio: {label}: {result.error.message}", file=sys.stderr)
    if not_stored is not None:
        answers = "answer above is" if len(ordered) == 1 else "answers above are"
        print(f"promptstudio: {not_stored.message} The {answers} not (or only partly) in "
              "the library.", file=sys.stderr)  # fmt: skip
        return 1
    if any(r.status == TargetStatus.CANCELLED for _, r in ordered):
        return 130
    return 1 if failed else 0


def load_document(args: argparse.Namespace) -> PromptDocument:
    """The file as a document: its own template, values and columns when it has them."""
    from promptstudio.exchange import ExchangeError, PromptDocument
    from promptstudio.exchange.formats import import_file

    path = Path(args.file)
    if path.suffix.lower() in PLAIN_TEMPLATE_SUFFIXES:
        from promptstudio.cli import _read_template

        return PromptDocument(name=path.stem, template=_read_template(args.file))
    try:
        docs = import_file(path)
    except ExchangeError as exc:
        raise CliError(exc.message) from exc
    if len(docs) != 1:
        raise CliError(f"{path.name} holds {len(docs)} prompts; export the one to run first.")
    for note in docs[0].notes:  # what the file holds that this run leaves out
        print(f"promptstudio: {path.name}: {note}", file=sys.stderr)
    return docs[0]


def _columns(args: argparse.Namespace, doc: PromptDocument) -> list[ColumnConfig]:
    """The run columns: one per ``--model``, or the document's own with flags applied."""
    from dataclasses import replace

    from promptstudio.providers import GenerationParams
    from promptstudio.runs.columns import ColumnConfig

    overrides: dict[str, Any] = {
        "temperature": args.temperature, "top_p": args.top_p, "max_tokens": args.max_tokens,
        "seed": args.seed, "stop": list(args.stop) or None,
    }  # fmt: skip
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if args.models:
        columns = []
        for index, (place, model) in enumerate(args.models, start=1):
            place = place or args.first_place
            if place is None:
                raise CliError("say where the model is: --base-url URL or --profile ID", 2)
            by_url = place.kind == "url"
            column = ColumnConfig(
                id=f"c{index}",
                model=model,
                params=GenerationParams.from_dict(overrides),
                base_url=place.value.rstrip("/") if by_url else "",
                profile="" if by_url else place.value,
                api=args.api or "auto",
                samples=getattr(args, "samples", None) or 1,
            )
            columns.append(column)
        return columns
    if not doc.columns:
        raise CliError("no model to run on: add --model NAME with --base-url or --profile", 2)
    return [
        replace(
            column,
            params=GenerationParams.from_dict(column.params.to_dict() | overrides),
            api=args.api or column.api,
            samples=getattr(args, "samples", None) or column.samples,
        )
        for column in doc.columns
    ]


def _targets(args: argparse.Namespace, columns: list[ColumnConfig]) -> list[tuple[str, RunTarget]]:
    """One labelled request per column, made as the app makes them (``runs.columns``): the
    settings' run defaults and timeouts apply, ``--timeout`` overriding the first-token one.
    Each column's base URL becomes the one its request goes to (as the run stores it)."""
    from dataclasses import replace

    from promptstudio.credentials import KeyStore
    from promptstudio.paths import data_dir
    from promptstudio.runs.columns import RunDefaults, run_target, sample_targets
    from promptstudio.settings.profiles import ProfileStore
    from promptstudio.settings.store import SettingsStore

    keys = KeyStore()
    profiles = ProfileStore(data_dir(args.data_dir))
    profiles.load()
    known = profiles.profiles(include_hidden=True)
    settings = SettingsStore(data_dir(args.data_dir))
    defaults = RunDefaults.from_settings(settings.get).with_first_token_timeout(args.timeout)
    targets: list[tuple[str, RunTarget]] = []
    for index, column in enumerate(columns, start=1):
        config = replace(column, id=f"c{index}")
        if not config.profile and not config.base_url.rstrip("/"):
            raise CliError("a column has neither a profile nor a base URL", 2)
        if not config.model:
            raise CliError(f"column {index} names no model", 2)
        target = run_target(config, known, keys, defaults)
        column.base_url = target.endpoint.base_url
        label = f"{target.model} @ {config.profile or target.endpoint.base_url}"
        samples = sample_targets(target, config)
        if len(samples) == 1:
            targets.append((label, samples[0]))
        else:
            targets += [(f"{label} #{n}", t) for n, t in enumerate(samples, start=1)]
    return targets


def _samples(text: str) -> int:
    from promptstudio.runs.columns import MAX_SAMPLES

    if not text.isdigit() or not 1 <= int(text) <= MAX_SAMPLES:
        raise argparse.ArgumentTypeError(f"a whole number from 1 to {MAX_SAMPLES}")
    return int(text)


def _prices(args: argparse.Namespace) -> PriceTable:
    from promptstudio.paths import data_dir
    from promptstudio.providers.pricing import PriceTable, parse_price_overrides
    from promptstudio.settings.store import SettingsStore

    overrides = str(SettingsStore(data_dir(args.data_dir)).get("prices.overrides") or "")
    return PriceTable.load(parse_price_overrides(overrides))


def _progress_line(result: TargetResult) -> str | None:
    """What stderr says about a target now: queued, retrying, or its final status line."""
    from promptstudio.providers import server_key
    from promptstudio.runs import TargetStatus

    model = result.target.model
    if result.status.finished:
        return _status_line(result)
    if result.retry is not None:
        retry = result.retry
        return (
            f"{model}: {retry.reason}; retrying in {_seconds(retry.wait_seconds)} "
            f"(attempt {retry.attempt} of {retry.max_retries})"
        )
    if result.status is TargetStatus.QUEUED:
        server = server_key(result.target.endpoint)
        return f"{model}: queued until an earlier request to {server} ends"
    return None


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 10 else f"{value:.0f} s"


def image_inputs(
    template: str, values: Mapping[str, object], messages: Sequence[Message]
) -> list[dict[str, Any]]:
    """The images the run sent, as the library stores them with its version: the variable
    whose value named it (None for an image written in the template), the alt text, the
    source, media type, size and SHA-256 (None for a remote URL, which the server reads)."""
    from promptstudio.templating import image_variables

    named = {str(values.get(n, "")).strip(): n for n in reversed(image_variables(template))}
    return [
        {
            "variable": named.get(image.source),
            "alt": image.alt,
            "source": image.source if image.source[:5].lower() != "data:" else "data:…",
            "media_type": image.media_type or None,
            "size": image.size if image.data else None,
            "sha256": image.sha256 if image.data else None,
        }
        for message in messages
        for image in message.images
    ]


def _status_line(result: TargetResult) -> str:
    ttft, total = format_ms(result.ttft_ms), format_ms(result.total_ms)
    return f"{result.target.model}: {result.status} · TTFT {ttft} · total {total}"


def _summary(label: str, result: TargetResult) -> dict[str, Any]:
    usage = result.usage
    return {
        "label": label,
        "model": result.target.model,
        "base_url": result.target.endpoint.base_url,
        "status": str(result.status),
        "text": result.text,
        "ttft_ms": result.ttft_ms,
        "total_ms": result.total_ms,
        "usage": None if usage is None else {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "estimated": usage.estimated,
        },
        "cost": result.cost,
        "finish_reason": result.finish_reason,
        "tool_calls": [call.to_dict() for call in result.tool_calls],
        "error": result.error.message if result.error else None,
    }  # fmt: skip


class _Conversation:
    """The ``--turn`` texts sent after each target's answer, each target's steps in turn (the
    targets side by side); Ctrl+C stops the step that is streaming and the ones after."""

    def __init__(
        self,
        threads: dict[str, Thread],
        turns: list[str],
        on_update: Any,
        prices: PriceTable,
        streaming: bool,
        tools: Sequence[ToolDef] = (),
    ) -> None:
        self.threads, self.turns, self.on_update = threads, turns, on_update
        self.prices, self.streaming, self.tools = prices, streaming, tools
        self.stopped = False
        self.running: set[RunSession] = set()

    async def run(self) -> None:
        import asyncio
        import signal

        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, self.stop)
        await asyncio.gather(*(self._go_on(thread) for thread in self.threads.values()))

    def stop(self) -> None:
        self.stopped = True
        for session in list(self.running):
            session.cancel()

    async def _go_on(self, thread: Thread) -> None:
        from promptstudio.chat import Message

        for text in self.turns:
            if self.stopped or not thread.can_continue:
                return
            if self.streaming:
                sys.stdout.write(f"\n\n> {text}\n\n")
            target = thread.steps[-1].result.target
            step = thread.next_step(
                [Message("user", text)],
                target,
                on_update=self.on_update,
                price_table=self.prices,
                tools=self.tools,
            )
            self.running.add(step.session)
            try:
                await step.run()
            finally:
                self.running.discard(step.session)


async def _run_session(session: RunSession) -> dict[str, TargetResult]:
    """Run with Ctrl+C stopping the streams (partial text is kept and recorded)."""
    import asyncio
    import signal

    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows has no signals here
        loop.add_signal_handler(signal.SIGINT, session.cancel)
    return await session.run()
