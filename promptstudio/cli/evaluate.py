"""``promptstudio eval``: a prompt's test cases on several models, graded, for CI.

SOURCE is a library prompt (name or id) or a file as ``run`` reads it (.prompty, .json,
a promptfoo config, a plain template). Cases come from ``--cases FILE`` (CSV, JSONL,
JSON), else the file's own (promptfoo ``tests``), else the library prompt's; models from
``--model`` (each at the ``--base-url``/``--profile`` named last before it, as in
``run``), else the file's columns, else those of the prompt's latest version. Every case
is also graded by the prompt's checks for every case; ``--judge MODEL`` picks the model
that grades ``llm-rubric`` checks. ``--var`` fills variables a case leaves out;
``--temperature``, ``--max-tokens`` and the other generation settings are ``run``'s.

The evaluation is recorded as the app records one: the version is saved under the
prompt (a file gets a prompt of its name, in folder "CLI"), the evaluation is stored
with it, and answers are cached in the library, so a rerun asks no model again unless
``--fresh``. Exit status: 0; 1 when a request failed or a model's pass rate is below
``--min-pass-rate`` (or the lower end of its 95% interval is below
``--min-pass-rate-lower``); 2 for a usage or setup error; 130 when stopped with Ctrl+C
(what finished is stored).

``--repeat N`` asks every model N times per case (each sample cached on its own, so a
rerun asks nothing again) and adds pass@N, pass^N and the flaky cases to the table.
Every pass rate comes with its 95% Wilson interval. ``--compare`` pairs this evaluation
with the prompt's previous one, model by model, and the models with the first one: the
cases that flipped, McNemar's exact test in a sentence, and one line with the pass-rate
change, its interval and the cost per 1,000 answers.

``--dry-run`` prints the plan (requests, cache hits, estimated tokens and cost per model,
and how each was estimated) and sends nothing; ``--max-cost USD`` (else the setting
``evaluate.max_cost``) stops before the spending would exceed it (exit status 1, what
finished is stored).

``--batch`` sends the cells as provider batches (OpenAI, Anthropic: half the price, within
24 hours) and exits once they are sent; ``--wait`` polls until they end and prints the
results. ``promptstudio batches`` lists, polls, collects and cancels them.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptstudio.cli import CliError
from promptstudio.cli.eval_output import budget_line, exit_code, money, print_results, say
from promptstudio.cli.library import find_prompt, open_db
from promptstudio.cli.options import add_generation_options
from promptstudio.cli.options import fraction as _fraction
from promptstudio.cli.run import (
    _columns,
    _prices,
    _targets,
    add_model_options,
    load_document,
)
from promptstudio.errors import PromptStudioError

if TYPE_CHECKING:
    from promptstudio.chat import Image
    from promptstudio.evals.cache import LibraryCache
    from promptstudio.evals.checks_model import CheckTools
    from promptstudio.evals.results import CellResult, EvalCase, EvalRun
    from promptstudio.evals.runner import EvalTarget, Evaluation, JudgeSettings
    from promptstudio.exchange import PromptDocument
    from promptstudio.images import ImageReader
    from promptstudio.runs.columns import ColumnConfig
    from promptstudio.settings.store import SettingsStore
    from promptstudio.storage import Database
    from promptstudio.storage.rows import PromptRow

PROGRESS_STEPS = 10  # a progress line about every tenth of the way


def add_eval_command(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    evaluate = commands.add_parser(
        "eval",
        parents=parents,
        help="evaluate a prompt's test cases on one or more models (for CI)",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    evaluate.set_defaults(models=[], place=None, first_place=None, samples=None)
    evaluate.add_argument("file", metavar="SOURCE",
                          help="a library prompt (name or id) or a prompt file")  # fmt: skip
    evaluate.add_argument("--cases", metavar="FILE", help="test cases from .csv, .jsonl or .json")
    add_model_options(evaluate, "a model to evaluate (repeat for several)")
    evaluate.add_argument("--judge", metavar="MODEL",
                          help="which of the models grades llm-rubric checks")  # fmt: skip
    evaluate.add_argument("--fresh", action="store_true", help="ask again; skip cached answers")
    evaluate.add_argument("--allow-code-checks", action="store_true",
                          help="run 'python' checks (your code, in another process)")  # fmt: skip
    output = evaluate.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the results as JSON")
    output.add_argument("--csv", action="store_true", help="print one CSV row per answer")
    output.add_argument("--html", action="store_true",
                        help="print a report page: figures, comparisons, answers")  # fmt: skip
    evaluate.add_argument("--min-pass-rate", type=_fraction, metavar="FRACTION",
                          help="exit 1 when a model passes fewer cases (0.8 or 80%%)")  # fmt: skip
    evaluate.add_argument("--min-pass-rate-lower", type=_fraction, metavar="FRACTION",
                          help="exit 1 when the lower end of a model's 95%% interval of its "
                               "pass rate is below this")  # fmt: skip
    evaluate.add_argument("--repeat", type=_repeat, default=1, metavar="N",
                          help="ask each model N times a case (pass@N, pass^N, flaky)")  # fmt: skip
    evaluate.add_argument("--compare", action="store_true",
                          help="compare with the last evaluation (paired test, ROI line) and "
                               "the models with the first")  # fmt: skip
    evaluate.add_argument(
        "--max-cost", type=parse_dollars, metavar="USD",
        help="stop before spending more than this (default: the setting)",
    )  # fmt: skip
    evaluate.add_argument(
        "--dry-run", action="store_true",
        help="print the plan (requests, cache hits, tokens, cost) and send nothing",
    )  # fmt: skip
    evaluate.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                          help="a value for variables the cases leave out")  # fmt: skip
    add_generation_options(evaluate)
    from promptstudio.cli.batches import add_batch_options

    add_batch_options(evaluate)


def _repeat(text: str) -> int:
    from promptstudio.runs.columns import MAX_SAMPLES

    if not text.isdigit() or not 1 <= int(text) <= MAX_SAMPLES:
        raise argparse.ArgumentTypeError(f"a whole number from 1 to {MAX_SAMPLES}")
    return int(text)


def parse_dollars(text: str) -> float:
    try:
        value = float(text.strip().lstrip("$"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount of US dollars") from None
    if not value >= 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount of 0 or more dollars")
    return value


def evaluate(args: argparse.Namespace) -> int:
    import asyncio

    from promptstudio.evals.store import load_run, save_run
    from promptstudio.exchange.document import version_settings
    from promptstudio.storage import library

    if args.wait and not args.batch:
        raise CliError("--wait polls batches: give --batch too", 2)
    with open_db(args) as db:
        doc, prompt = _source(args, db)
        columns, evaluation = build_evaluation(args, db, doc, prompt)
        if args.batch:  # provider batches: cli/batches.py
            from promptstudio.cli.batches import batch_evaluate

            return batch_evaluate(args, db, doc, prompt, columns, evaluation)
        if show_plan(args, db, evaluation, prompt):
            return 0
        if prompt is None:
            prompt = db.call(library.create_prompt, doc.name, doc.folder or "CLI")
        version = db.call(
            library.save_version, prompt.id, doc.template, evaluation.values,
            version_settings(columns, evaluation.tool_defs), kind="run",
            images=_sent_images(doc.template, evaluation.values, evaluation.images),
        )  # fmt: skip
        runs = db.call(library.list_eval_runs, prompt.id)
        earlier = [r for r in runs if r.status != "pending"]  # still waiting on batches
        models = ", ".join(target.column.label for target in evaluation.targets)
        print(f"→ {prompt.name} v{version.number}: {len(evaluation.result.cases)} cases × "
              f"{models}", file=sys.stderr)  # fmt: skip
        run = db.call(save_run, version.id, asyncio.run(_run_evaluation(evaluation)))
        if evaluation.images.from_store:
            say(evaluation.images.gone_note())
        print(f"stored as evaluation {run.id} of {prompt.name} v{run.version_number}",
              file=sys.stderr)  # fmt: skip
        baseline = db.call(load_run, earlier[0].id) if args.compare and earlier else None
    if args.compare and baseline is None:
        print(f"promptstudio: {prompt.name} has no earlier evaluation to compare with",
              file=sys.stderr)  # fmt: skip
    if "stopped_for_budget" in run.settings:
        say(budget_line(run))
    print_results(args, run, prompt.name, baseline)
    return exit_code(run, args.min_pass_rate, args.min_pass_rate_lower)


def show_plan(
    args: argparse.Namespace, db: Database, evaluation: Evaluation, prompt: PromptRow | None
) -> bool:
    """Show the plan (on stdout for ``--dry-run``: True, nothing is sent), and set the
    budget from ``--max-cost`` or the setting."""
    from promptstudio.evals.plan import (
        Budget,
        cached_among,
        evaluation_cells,
        plan_evaluation,
        planned_models,
        read_history,
    )
    from promptstudio.paths import data_dir
    from promptstudio.settings.store import SettingsStore

    limit = args.max_cost
    if limit is None:
        setting = SettingsStore(data_dir(args.data_dir)).get("evaluate.max_cost")
        limit = float(setting) if isinstance(setting, int | float) else None
    if limit is None and not args.dry_run:
        return False  # the plan renders every case before the first request: not unasked
    models = planned_models(evaluation)
    history = db.call(read_history, models, prompt.id if prompt is not None else None)
    cells = evaluation_cells(evaluation)
    keys = [key for _, key in cells if key]
    cached = set() if evaluation.fresh else db.call(cached_among, keys)
    plan = plan_evaluation(evaluation, history, cached, cells)
    if args.dry_run:
        if args.json:
            json.dump({"plan": plan.to_dict()}, sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
        else:
            print("\n".join(["plan (dry run: nothing sent)", *plan.lines()]))
        return True
    print(f"plan: {plan.total_line()}", file=sys.stderr)
    if limit is not None:
        evaluation.budget = Budget.from_plan(limit, plan)
        print(f"budget: {money(limit)}", file=sys.stderr)
    return False


# ---- what to evaluate ------------------------------------------------------------------


def _sent_images(template: str, values: Mapping[str, object], images: ImageReader) -> list[Image]:
    """The images the version sends, stored with it as the window's evaluation stores them:
    rendered with its values, a variable only the cases give left blank (as the variables
    form holds every name)."""
    from promptstudio.images import ImageReader
    from promptstudio.templating import TemplateError, input_names, sent_images

    try:
        blank: dict[str, object] = dict.fromkeys(input_names(template), "")
    except TemplateError:
        return []
    reader = ImageReader(images.base_dir, images.stored)  # its own list of files gone
    return sent_images(template, {**blank, **values}, images=reader)


def _source(args: argparse.Namespace, db: Database) -> tuple[PromptDocument, PromptRow | None]:
    """The prompt as a document, and its library prompt (None for a file not seen yet)."""
    from promptstudio.exchange import PromptDocument
    from promptstudio.storage import library

    if Path(args.file).is_file():
        try:
            doc = load_document(args)
        except PromptStudioError as exc:
            raise CliError(exc.message, 2) from exc
        found = [p for p in db.call(library.list_prompts) if p.name == doc.name]
        return doc, found[0] if found else None
    try:
        prompt = db.call(find_prompt, args.file)
    except CliError as exc:
        raise CliError(f"{args.file}: no such file, and {exc.message}", 2) from exc
    version = db.call(library.latest_version, prompt.id)
    if version is None:
        raise CliError(f"{prompt.name} has no saved version to evaluate", 2)
    return PromptDocument.from_library(prompt, version), prompt


def build_evaluation(
    args: argparse.Namespace, db: Database, doc: PromptDocument, prompt: PromptRow | None
) -> tuple[list[ColumnConfig], Evaluation]:
    """The run columns (as the run sends them) and the evaluation, checked."""
    from promptstudio.evals.cache import LibraryCache
    from promptstudio.evals.runner import EvalError, Evaluation
    from promptstudio.exchange.document import columns_from_dicts, stored_tools
    from promptstudio.paths import data_dir
    from promptstudio.settings.store import SettingsStore
    from promptstudio.storage import library

    if not doc.columns and prompt is not None:
        latest = db.call(library.latest_version, prompt.id)
        stored = latest.settings.get("columns") or [] if latest else []
        doc.columns = columns_from_dicts(stored)
        doc.tools = doc.tools or (stored_tools(latest.settings) if latest else [])
    cases = _cases(args, doc, prompt, db)
    checks = db.call(library.get_eval_settings, prompt.id) if prompt is not None else None
    stored_images = {}  # a library prompt's image files gone since: the library's copies
    named = None if Path(args.file).is_file() or prompt is None else prompt.id
    if named is not None and (version := db.call(library.latest_version, named)) is not None:
        stored_images = db.call(library.stored_images, version.id)
    # An evaluation repeats cases with --repeat, not a column's samples (as in the window).
    columns = [replace(column, samples=1) for column in _columns(args, doc)]
    targets = eval_targets(args, columns)
    store = SettingsStore(data_dir(args.data_dir))
    cache = LibraryCache(db)
    tools = _check_tools(args, store, cache)
    try:
        evaluation = Evaluation(
            doc.template,
            cases,
            targets,
            values={**doc.variables, **args.values},
            for_every_case=checks.asserts if checks else (),
            judge=_judge(args.judge, targets, checks.judge_prompt if checks else None),
            cache=cache,
            fresh=args.fresh,
            local_limit=int(str(store.get("evaluate.local_limit"))),
            remote_limit=int(str(store.get("evaluate.remote_limit"))),
            price_table=_prices(args),
            on_cell=_Progress(len(cases) * len(targets) * args.repeat),
            repeat=args.repeat,
            tools=tools,
            tool_defs=doc.tools,
            stored_images=stored_images,
            locate=doc.origin.locate if doc.origin is not None else None,
        )
    except EvalError as exc:
        raise CliError(exc.message, 2) from exc
    return columns, evaluation


def _check_tools(args: argparse.Namespace, store: SettingsStore, cache: LibraryCache) -> CheckTools:
    """Embeddings as the settings say; code checks only with ``--allow-code-checks``."""
    from promptstudio.credentials import KeyStore
    from promptstudio.evals.check_tools import check_tools
    from promptstudio.paths import data_dir
    from promptstudio.settings.profiles import ProfileStore

    profiles = ProfileStore(data_dir(args.data_dir))
    profiles.load()
    try:
        return check_tools(
            store.get,
            profiles=profiles.profiles(include_hidden=True),
            keys=KeyStore(),
            cache=cache,
            run_code=args.allow_code_checks,
        )
    except PromptStudioError as exc:  # the embeddings provider no longer exists
        raise CliError(f"embeddings (settings checks.embeddings_*): {exc.message}", 2) from exc


def _cases(
    args: argparse.Namespace, doc: PromptDocument, prompt: PromptRow | None, db: Database
) -> tuple[EvalCase, ...]:
    """``--cases FILE``, else the file's own cases, else the library prompt's."""
    from promptstudio.evals.store import cases_from_rows
    from promptstudio.exchange import ExchangeError
    from promptstudio.exchange.case_files import cases_from_file
    from promptstudio.storage import library

    if args.cases:
        try:
            found = cases_from_file(Path(args.cases))
        except ExchangeError as exc:
            raise CliError(exc.message, 2) from exc
        if not found:
            raise CliError(f"{args.cases} holds no test cases", 2)
        return _file_cases(found)
    if doc.cases:
        return _file_cases(doc.cases)
    rows = db.call(library.list_cases, prompt.id) if prompt is not None else []
    if not rows:
        raise CliError(
            f"{doc.name} has no test cases: give --cases FILE (CSV, JSONL or JSON), "
            "add tests to the file, or add cases to the prompt in the app",
            2,
        )
    return cases_from_rows(rows)


def _file_cases(cases: Sequence[Mapping[str, Any]]) -> tuple[EvalCase, ...]:
    """Cases read from a file, each known by its variables (a hash of them), so that
    reordering or inserting cases keeps comparisons with earlier evaluations straight."""
    from promptstudio.evals.results import EvalCase, case_threshold

    seen: dict[str, int] = {}
    out = []
    for position, case in enumerate(cases):
        variables = dict(case.get("vars") or {})
        canonical = json.dumps(variables, sort_keys=True, ensure_ascii=False, default=str)
        key = "file:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
        seen[key] = seen.get(key, 0) + 1
        expected = case.get("expected")
        out.append(
            EvalCase(
                key=key if seen[key] == 1 else f"{key}-{seen[key]}",
                position=position,
                vars=variables,
                description=str(case.get("description") or ""),
                expected=None if expected is None else str(expected),
                asserts=tuple(dict(check) for check in case.get("assert") or ()),
                threshold=case_threshold(case),
            )
        )
    return tuple(out)


def eval_targets(args: argparse.Namespace, columns: list[ColumnConfig]) -> list[EvalTarget]:
    """One target per column, labelled by its model (and place, when a model repeats)."""
    from promptstudio.evals.results import EvalColumn
    from promptstudio.evals.runner import EvalTarget

    try:
        targets = _targets(args, columns)
    except CliError:
        raise
    except PromptStudioError as exc:  # an unknown profile, an unreadable keychain
        raise CliError(exc.message, 2) from exc
    models = [target.model for _, target in targets]
    out = []
    for label, target in targets:
        shown = target.model if models.count(target.model) == 1 else label
        column = EvalColumn(
            target.key, shown, target.model, target.endpoint.base_url, target.params.to_dict()
        )
        out.append(EvalTarget(column, target.endpoint, target.params))
    return out


def _judge(
    model: str | None, targets: Sequence[EvalTarget], prompt: str | None
) -> JudgeSettings | None:
    from promptstudio.evals.judge import DEFAULT_JUDGE_PROMPT
    from promptstudio.evals.runner import JudgeSettings

    if not model:
        return None
    for target in targets:
        if target.column.model == model:
            return JudgeSettings(
                target.endpoint, model, prompt or DEFAULT_JUDGE_PROMPT, target.params
            )
    models = ", ".join(target.column.model for target in targets)
    raise CliError(f"--judge {model}: not one of the models evaluated ({models})", 2)


class _Progress:
    """``  42/60 answers`` on stderr about every tenth of the way, and at the end."""

    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0
        self.step = max(1, math.ceil(total / PROGRESS_STEPS))

    def __call__(self, cell: CellResult) -> None:
        self.done += 1
        if self.done % self.step == 0 or self.done == self.total:
            print(f"  {self.done}/{self.total} answers", file=sys.stderr)


async def _run_evaluation(evaluation: Evaluation) -> EvalRun:
    """Run with Ctrl+C cancelling it (finished cells are kept, the rest cancelled)."""
    import asyncio
    import signal

    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows has no signals here
        loop.add_signal_handler(signal.SIGINT, evaluation.cancel)
    return await evaluation.run()
