"""``promptstudio eval --batch`` and ``promptstudio batches``: evaluations as provider batches.

``eval --batch`` stores the evaluation as pending with one batch per model (OpenAI's Batch
API, Anthropic's Message Batches, or a compatible server's ``/v1/batches``), sends them,
prints their ids and exits 0; ``--wait`` polls until they end and prints the results as
``eval`` does. ``batches list`` shows every batch of the library, ``status ID`` asks the
provider, ``collect [ID]`` stores what ended (every open batch without ID), ``cancel ID``
asks the provider to stop. A batch is collected once, whichever process asks first.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from promptstudio.cli import CliError
from promptstudio.cli.eval_output import say
from promptstudio.cli.library import emit, open_db
from promptstudio.errors import PromptStudioError

if TYPE_CHECKING:
    from promptstudio.evals.batches import Resolver, Submitted
    from promptstudio.evals.results import EvalRun
    from promptstudio.evals.runner import Evaluation
    from promptstudio.exchange import PromptDocument
    from promptstudio.providers import Endpoint
    from promptstudio.runs.columns import ColumnConfig
    from promptstudio.storage import Database
    from promptstudio.storage.batches import BatchRow
    from promptstudio.storage.rows import PromptRow

DEFAULT_POLL = 30.0


def add_batch_options(evaluate: argparse.ArgumentParser) -> None:
    """``eval``'s --batch, --wait and --poll-every."""
    evaluate.add_argument(
        "--batch",
        action="store_true",
        help="send as provider batches (half price, within 24 h) and exit",
    )
    evaluate.add_argument(
        "--wait",
        action="store_true",
        help="with --batch: poll until the batches end, then print results",
    )
    evaluate.add_argument(
        "--poll-every",
        type=float,
        default=DEFAULT_POLL,
        metavar="SECONDS",
        help=f"with --wait: seconds between polls ({DEFAULT_POLL:g})",
    )


def add_batches_command(commands: Any, data: argparse.ArgumentParser) -> None:
    out = argparse.ArgumentParser(add_help=False)
    out.add_argument("--json", action="store_true", help="machine-readable output")
    batches = commands.add_parser("batches", parents=[data], help="evaluations sent as batches")
    actions = batches.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", parents=[data, out], help="every batch in the library")
    status = actions.add_parser("status", parents=[data, out], help="ask the provider")
    status.add_argument("batch", metavar="ID", help="our number or the provider's batch id")
    collect = actions.add_parser("collect", parents=[data], help="store what has ended")
    collect.add_argument("batch", metavar="ID", nargs="?", help="one batch (default: all open)")
    cancel = actions.add_parser("cancel", parents=[data], help="ask the provider to stop")
    cancel.add_argument("batch", metavar="ID")
    batches.set_defaults(handler=run_batches)


def run_batches(args: argparse.Namespace) -> int:
    from promptstudio.storage import batches as stored

    with open_db(args) as db:
        if args.action == "list":
            rows = db.call(stored.list_batches)
            emit(args, [_batch_dict(b) for b in rows], [_batch_line(b) for b in rows])
            return 0
        resolve = _resolver(args)
        if args.action == "collect":
            return _collect(args, db, resolve)
        batch = _find(db, args.batch)
        if args.action == "status":
            return _status(args, db, batch, resolve)
        from promptstudio.evals.batches import cancel

        try:
            status = _polled(lambda: cancel(db, batch, resolve), batch)
        except PromptStudioError as exc:
            raise CliError(exc.message, 1) from exc
        if status is None:
            return 1
        print(f"batch {batch.id} ({batch.remote_id}): cancel asked; {_provider(status)}")
        return 0


def _provider(status: Any) -> str:
    return f"{status.state}, {status.done} done, {status.failed} failed of {status.total}"


def _find(db: Database, reference: str) -> BatchRow:
    from promptstudio.storage import NotFound
    from promptstudio.storage import batches as stored

    try:
        return db.call(stored.find_batch, reference)
    except NotFound as exc:
        raise CliError(exc.message, 2) from exc


def _status(args: argparse.Namespace, db: Database, batch: BatchRow, resolve: Resolver) -> int:
    from promptstudio.evals.batches import poll

    if batch.collected:
        print(_batch_line(batch))
        return 0
    status = _polled(lambda: poll(db, batch, resolve), batch)
    if status is None:
        return 1
    batch = _find(db, str(batch.id))
    emit(args, {**_batch_dict(batch), "provider": status.counts()}, [_batch_line(batch)])
    return 0


def _polled(call: Any, batch: BatchRow) -> Any:
    """The call's result, or None after saying why the provider could not be asked."""
    from promptstudio.providers import ProviderError

    try:
        return asyncio.run(call())
    except ProviderError as exc:
        say(
            f"batch {batch.id}: could not ask the provider ({exc.message}); nothing is lost, "
            "try again later"
        )
        return None


def _collect(args: argparse.Namespace, db: Database, resolve: Resolver) -> int:
    from promptstudio.storage import batches as stored

    if args.batch:
        targets = [_find(db, args.batch)]
    else:
        targets = db.call(stored.list_batches, open_only=True)
        if not targets:
            print("no batch is waiting to be collected")
            return 0
    code = 0
    for batch in targets:
        code = max(code, _collect_one(args, db, batch, resolve))
    return code


def _collect_one(args: argparse.Namespace, db: Database, batch: BatchRow, resolve: Resolver) -> int:
    """Collect one batch; 0 when stored or still running, 1 when it could not be."""
    from promptstudio.evals.batches import AlreadyCollected, collect

    try:
        result = _polled(lambda: collect(db, batch.id, resolve, _prices(args)), batch)
    except AlreadyCollected as exc:
        say(exc.message)
        return 1
    if result is None:
        return 1
    if not result.stored:
        print(f"batch {batch.id}: still running ({_provider(result.status)})")
        return 0
    failed = sum(1 for cell in result.cells if cell.status == "failed")
    line = f"batch {batch.id}: {len(result.cells)} answers stored in evaluation {batch.eval_run_id}"
    if failed:
        line += f" ({failed} failed)"
    if result.batch.error:
        line += f"; {result.batch.error}"
    print(line)
    return 0


# ---- eval --batch --------------------------------------------------------------------


def batch_evaluate(
    args: argparse.Namespace,
    db: Database,
    doc: PromptDocument,
    prompt: PromptRow | None,
    columns: list[ColumnConfig],
    evaluation: Evaluation,
) -> int:
    """Submit (and with ``--wait`` collect) ``evaluation`` as batches."""
    from promptstudio.cli.eval_output import exit_code, money, print_results
    from promptstudio.cli.evaluate import show_plan
    from promptstudio.evals.batches import submit
    from promptstudio.evals.runner import EvalError
    from promptstudio.exchange.document import version_settings
    from promptstudio.storage import library

    if evaluation.price_table is not None:
        kinds = {target.endpoint.kind for target in evaluation.targets}
        table = evaluation.price_table
        shares = [table.batch_share(kind) for kind in kinds]
        if len(kinds) == 1 or len(set(shares)) == 1:
            evaluation.price_table = table.for_batch(next(iter(kinds)))
    if show_plan(args, db, evaluation, prompt):
        return 0
    if evaluation.budget is not None:
        cells = len(evaluation.result.cases) * evaluation.repeat
        whole = sum(evaluation.budget.estimates.values()) * cells
        if whole > evaluation.budget.limit + 1e-12:
            raise CliError(
                f"the batches could cost up to {money(whole)} at the batch price, over the "
                f"budget of {money(evaluation.budget.limit)}: nothing was sent",
                1,
            )
    if prompt is None:
        prompt = db.call(library.create_prompt, doc.name, doc.folder or "CLI")
    version = db.call(
        library.save_version,
        prompt.id,
        doc.template,
        evaluation.values,
        version_settings(columns, evaluation.tool_defs),
        kind="run",
    )
    try:
        submitted = asyncio.run(submit(evaluation, columns, db, version.id))
    except EvalError as exc:
        raise CliError(exc.message, 2) from exc
    run = submitted.run
    print(
        f"stored as evaluation {run.id} of {prompt.name} v{version.number} (pending)",
        file=sys.stderr,
    )
    final = _waited(args, db, submitted)
    if final is None:
        return 0
    print_results(args, final, prompt.name, None)
    return exit_code(final, args.min_pass_rate, args.min_pass_rate_lower)


def _waited(args: argparse.Namespace, db: Database, submitted: Submitted) -> EvalRun | None:
    """Without ``--wait`` the batches are what the command prints (``--json``: as data),
    and None; with it, the evaluation once every batch is collected."""
    from promptstudio.evals.store import load_run

    if not args.wait:
        emit(
            args,
            [_batch_dict(b) for b in submitted.batches],
            [_batch_line(b) for b in submitted.batches],
        )
        if any(not b.collected for b in submitted.batches):
            print("collect with: promptstudio batches collect (or status ID)", file=sys.stderr)
        return None
    _wait(args, db, submitted.batches)
    assert submitted.run.id is not None  # stored by submit
    return db.call(load_run, submitted.run.id)


def _wait(args: argparse.Namespace, db: Database, batches: list[BatchRow]) -> None:
    """``--wait``: poll every ``--poll-every`` seconds until each batch is collected."""
    from promptstudio.evals.batches import AlreadyCollected, collect

    for batch in batches:  # the results come on stdout, after they end
        print(_batch_line(batch), file=sys.stderr)
    resolve = _resolver(args)
    open_batches = [b for b in batches if not b.collected]
    while open_batches:
        time.sleep(max(0.05, args.poll_every))
        still = []
        for batch in open_batches:
            try:
                result = _polled(lambda b=batch: collect(db, b.id, resolve, _prices(args)), batch)
            except AlreadyCollected as exc:
                say(exc.message)
                continue
            if result is None or not result.stored:
                still.append(batch)
                if result is not None:
                    print(f"  batch {batch.id}: {_provider(result.status)}", file=sys.stderr)
        open_batches = still


# ---- run --samples N --batch ---------------------------------------------------------


def batch_run(
    args: argparse.Namespace,
    doc: PromptDocument,
    values: Mapping[str, object],
    columns: list[ColumnConfig],
) -> int:
    """A run's samples as provider batches: a one-case evaluation (the run's values, each
    column's samples as its repeats) sent by :func:`evals.batches.submit`, so it is stored,
    polled and collected as any batch evaluation is (History, ``batches collect``)."""
    from dataclasses import replace

    from promptstudio.cli.evaluate import eval_targets
    from promptstudio.evals.batches import run_case, submit
    from promptstudio.evals.runner import EvalError, Evaluation
    from promptstudio.exchange.document import version_settings
    from promptstudio.storage import library

    if args.turns or args.tool_steps:
        raise CliError("--batch sends each sample once: not with --turn or --tool-steps", 2)
    samples = max(column.samples for column in columns)
    columns = [replace(column, samples=1) for column in columns]  # the repeats are the samples
    targets = eval_targets(args, columns)
    case = run_case()
    try:  # fresh: every sample is a new answer, as a live run's
        evaluation = Evaluation(
            doc.template, [case], targets, values=values, fresh=True, repeat=samples,
            price_table=_prices(args), tool_defs=doc.tools,
        )  # fmt: skip
    except EvalError as exc:
        raise CliError(exc.message, 2) from exc
    name = args.prompt or doc.name
    with open_db(args) as db:
        prompt = next((p for p in db.call(library.list_prompts) if p.name == name), None)
        if prompt is None:
            prompt = db.call(library.create_prompt, name, doc.folder or "CLI")
        settings = version_settings(columns, doc.tools)
        version = db.call(
            library.save_version, prompt.id, doc.template, dict(values), settings, kind="run"
        )
        try:
            submitted = asyncio.run(submit(evaluation, columns, db, version.id))
        except EvalError as exc:
            raise CliError(exc.message, 2) from exc
        run = submitted.run
        plural = "s" if samples > 1 else ""
        print(f"stored as evaluation {run.id} of {prompt.name} v{version.number} (pending, "
              f"{samples} sample{plural} per model)", file=sys.stderr)  # fmt: skip
        final = _waited(args, db, submitted)
    return 0 if final is None else _print_samples(args, final, samples)


def _print_samples(args: argparse.Namespace, run: EvalRun, samples: int) -> int:
    """The collected samples as ``run`` prints answers: ``=== label #n ===`` and the text
    (the text alone for one answer), failures on stderr; 1 when one failed."""
    from promptstudio.evals.batches import RUN_CASE

    answers = []
    for column in run.columns:
        for cell in run.samples(RUN_CASE, column.key):
            label = column.label if samples == 1 else f"{column.label} #{cell.sample + 1}"
            answers.append((label, column, cell))
    if args.json:
        out = [
            {
                "label": label,
                "model": column.model,
                "sample": cell.sample + 1,
                "status": cell.status,
                "text": cell.text,
                "cost": cell.cost,
                "input_tokens": cell.input_tokens,
                "output_tokens": cell.output_tokens,
                "error": cell.error,
            }
            for label, column, cell in answers
        ]
        emit(args, {"evaluation": run.id, "answers": out}, [])
    else:
        for label, _column, cell in answers:
            if len(answers) > 1:
                sys.stdout.write(f"=== {label} ===\n")
            text = cell.text
            sys.stdout.write(text if not text or text.endswith("\n") else text + "\n")
    failed = [(label, cell.error) for label, _column, cell in answers if cell.error]
    for label, error in failed:
        say(f"{label}: {error}")
    missing = len(run.columns) * samples - len(answers)
    if missing:
        say(f"{missing} sample(s) have no stored answer")
    return 1 if failed or missing else 0


def _prices(args: argparse.Namespace) -> Any:
    from promptstudio.cli.run import _prices as prices

    return prices(args)


def _resolver(args: argparse.Namespace) -> Resolver:
    """Each stored batch's endpoint again, its key from the keychain or the environment,
    as a run resolves it (``runs.columns.column_endpoint``)."""
    from promptstudio.credentials import KeyStore
    from promptstudio.paths import data_dir
    from promptstudio.runs.columns import ColumnConfig, RunDefaults, column_endpoint
    from promptstudio.settings.profiles import ProfileStore
    from promptstudio.settings.store import SettingsStore

    keys = KeyStore()
    profiles = ProfileStore(data_dir(args.data_dir))
    profiles.load()
    known = profiles.profiles(include_hidden=True)
    defaults = RunDefaults.from_settings(SettingsStore(data_dir(args.data_dir)).get)

    def resolve(target: Mapping[str, Any]) -> Endpoint:
        column = ColumnConfig.from_dict(dict(target.get("column") or {}))
        try:
            return column_endpoint(column, known, keys, defaults)
        except PromptStudioError as exc:
            raise CliError(exc.message, 2) from exc

    return resolve


def _batch_dict(batch: BatchRow) -> dict[str, Any]:
    return {
        "id": batch.id,
        "remote_id": batch.remote_id,
        "evaluation": batch.eval_run_id,
        "model": batch.target.get("label") or batch.target.get("model"),
        "state": batch.state,
        "counts": batch.counts,
        "error": batch.error,
        "created_at": batch.created_at,
        "collected_at": batch.collected_at,
    }


def _batch_line(batch: BatchRow) -> str:
    counts = batch.counts
    done, failed = counts.get("done", 0), counts.get("failed", 0)
    total = counts.get("total", 0) or batch.requests  # 0 while the provider validates
    state = "collected" if batch.collected else batch.state
    line = (
        f"batch {batch.id}  {batch.remote_id or '(not sent)'}  "
        f"{batch.target.get('label') or batch.target.get('model')}  {state}  "
        f"{done}/{total} done, {failed} failed  evaluation {batch.eval_run_id}  "
        f"since {batch.created_at}"
    )
    if batch.error:
        line += f"  — {batch.error}"
    return line
