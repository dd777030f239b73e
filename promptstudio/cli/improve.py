"""``improve``, ``generate prompt``, ``generate cases`` and ``optimize``: a model works on
a library prompt, through the same request a run makes (``runs.columns.run_target``).

The prompts that ask the model are the library's, in the "PromptStudio" folder (seeded on
first use; edit them there). ``improve`` prints the critique and the diff and exits 1 with
the reason when the rewrite drops or renames a variable, does not render or breaks the
roles; ``--accept`` saves it as a new version whose parent is the current one.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import json
import sys
from typing import TYPE_CHECKING, Any

from promptstudio.cli import CliError
from promptstudio.cli.library import find_prompt, open_db
from promptstudio.cli.options import add_generation_options, whole
from promptstudio.cli.run import Place, _prices, _targets, add_model_options

if TYPE_CHECKING:
    from promptstudio.evals.results import EvalRun
    from promptstudio.runs import RunTarget
    from promptstudio.storage import Database
    from promptstudio.storage.rows import PromptRow, VersionRow


def add_improve_commands(commands: Any, data: argparse.ArgumentParser) -> None:
    improve = commands.add_parser(
        "improve", parents=[data], help="a model critiques and rewrites a prompt",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )  # fmt: skip
    _model_flags(improve)
    improve.add_argument("prompt", metavar="PROMPT", help="a library prompt's name or id")
    improve.add_argument("--goal", default="", metavar="TEXT",
                         help='what to aim for, e.g. "shorter answers", "always JSON"')  # fmt: skip
    improve.add_argument(
        "--accept", action="store_true",
        help="save the rewrite as a new version (its parent: the current one)",
    )  # fmt: skip
    improve.add_argument("--json", action="store_true",
                         help='print {"critique", "template", "version"}')  # fmt: skip
    improve.set_defaults(handler=_improve)

    generate = commands.add_parser("generate", parents=[data],
                                   help="a model writes a prompt or test cases")  # fmt: skip
    kinds = generate.add_subparsers(dest="action", metavar="WHAT", required=True)
    prompt = kinds.add_parser("prompt", parents=[data], help="a first prompt for a task")
    _model_flags(prompt)
    prompt.add_argument("task", metavar="TASK", help="what the prompt should do")
    prompt.add_argument("--save", metavar="NAME", help="store it in the library as NAME")
    prompt.add_argument("--json", action="store_true",
                        help='print {"template", "values", "prompt", "version"}')  # fmt: skip
    prompt.set_defaults(handler=_generate_prompt)
    cases = kinds.add_parser("cases", parents=[data],
                             help="test cases for a prompt, stored marked generated")  # fmt: skip
    _model_flags(cases)
    cases.add_argument("prompt", metavar="PROMPT", help="a library prompt's name or id")
    cases.add_argument("-n", type=whole(1, 200), default=10, metavar="N",
                       help="how many cases (default 10)")  # fmt: skip
    cases.add_argument("--json", action="store_true", help="print the cases stored as JSON")
    cases.set_defaults(handler=_generate_cases)

    optimize = commands.add_parser(
        "optimize", parents=[data],
        help="rounds of rewrites evaluated on the cases; the best is kept",
    )  # fmt: skip
    _model_flags(optimize, "a model to evaluate on (repeat for several)")
    optimize.add_argument("prompt", metavar="PROMPT", help="a library prompt's name or id")
    optimize.add_argument(
        "--cases", metavar="FILE",
        help="test cases from .csv, .jsonl or .json (default: the prompt's)",
    )  # fmt: skip
    optimize.add_argument("--improver-model", required=True, metavar="NAME",
                          help="the model that proposes the rewrites")  # fmt: skip
    where = optimize.add_mutually_exclusive_group(required=True)
    where.add_argument("--improver-base-url", metavar="URL", help="where the improver is")
    where.add_argument("--improver-profile", metavar="ID", help="the improver's profile")
    optimize.add_argument("--rounds", type=whole(1, 20), default=3, metavar="R")
    optimize.add_argument("--candidates", type=whole(1, 10), default=3, metavar="K")
    optimize.add_argument("--max-cost", type=_dollars, metavar="USD",
                          help="stop before spending more (default: the setting)")  # fmt: skip
    optimize.add_argument("--goal", default="", metavar="TEXT", help="what to aim for")
    optimize.add_argument("--json", action="store_true",
                          help="print each round's candidates and the chosen version")  # fmt: skip
    optimize.add_argument("--markdown", action="store_true", help="print the report as Markdown")
    optimize.set_defaults(handler=_optimize)


def _dollars(text: str) -> float:
    """``--max-cost``, read as ``eval`` reads it (imported when the flag is used)."""
    from promptstudio.cli.evaluate import parse_dollars

    return parse_dollars(text)


def _model_flags(parser: argparse.ArgumentParser, model_help: str = "the model to ask") -> None:
    parser.set_defaults(models=[], place=None, first_place=None, samples=None)
    add_model_options(parser, model_help)
    add_generation_options(parser)


def _one_target(args: argparse.Namespace, models: list[tuple[Any, str]] | None = None) -> RunTarget:
    """The request to the one ``--model``, made as a run makes it."""
    from promptstudio.cli.run import _columns
    from promptstudio.exchange import PromptDocument

    chosen = args.models if models is None else models
    if len(chosen) != 1:
        raise CliError("give one --model with --base-url URL or --profile ID", 2)
    saved = args.models
    args.models = chosen
    try:
        columns = _columns(args, PromptDocument(name="", template=""))
    finally:
        args.models = saved
    return _targets(args, columns)[0][1]


def _library_prompt(db: Database, name: str) -> tuple[PromptRow, VersionRow]:
    from promptstudio.storage import library

    prompt = db.call(find_prompt, name)
    version = db.call(library.latest_version, prompt.id)
    if version is None:
        raise CliError(f"{prompt.name} has no saved version", 2)
    return prompt, version


def _ask_failed(exc: Any) -> CliError:
    return CliError(exc.message, 1)


# ---- improve ----------------------------------------------------------------------------


def _improve(args: argparse.Namespace) -> int:
    from promptstudio.improve import IMPROVER, FeatureError, RewriteRejected, feature_messages
    from promptstudio.improve.improving import (
        accept_improvement,
        improver_values,
        propose_improvement,
    )

    target = _one_target(args)
    with open_db(args) as db:
        prompt, version = _library_prompt(db, args.prompt)
        values = improver_values(version.template, args.goal)
        messages = db.call(feature_messages, IMPROVER, values)
        print(f"→ {target.model} reviews {prompt.name} v{version.number}", file=sys.stderr)
        try:
            improvement = asyncio.run(propose_improvement(
                target, messages, version.template, version.variables, price_table=_prices(args)
            ))  # fmt: skip
        except RewriteRejected as exc:
            raise CliError(f"the rewrite was rejected: {exc.message}") from exc
        except FeatureError as exc:
            raise _ask_failed(exc) from exc
        saved = db.call(accept_improvement, version.id, improvement) if args.accept else None
    if args.json:
        data = {"critique": improvement.critique, "template": improvement.template,
                "version": None if saved is None else saved.number}  # fmt: skip
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print(improvement.critique or "(no critique)")
        print()
        sys.stdout.writelines(difflib.unified_diff(
            version.template.splitlines(keepends=True),
            improvement.template.splitlines(keepends=True),
            f"v{version.number}", "rewrite",
        ))  # fmt: skip
    if saved is not None:
        print(f"saved as {prompt.name} v{saved.number} (parent v{version.number})",
              file=sys.stderr)  # fmt: skip
    return 0


# ---- generate ---------------------------------------------------------------------------


def _generate_prompt(args: argparse.Namespace) -> int:
    from promptstudio.improve import PROMPT_GENERATOR, FeatureError, ask, feature_messages
    from promptstudio.improve.generating import parse_generated_prompt, prompt_generator_values
    from promptstudio.storage import library

    if not args.task.strip():
        raise CliError("say what the prompt should do: TASK is empty", 2)
    target = _one_target(args)
    with open_db(args) as db:
        messages = db.call(feature_messages, PROMPT_GENERATOR, prompt_generator_values(args.task))
        try:
            reply = asyncio.run(ask(target, messages, price_table=_prices(args)))
            generated = parse_generated_prompt(reply.text)
        except FeatureError as exc:
            raise CliError(f"no prompt generated: {exc.message}") from exc
        stored = None
        if args.save:
            prompt = db.call(library.create_prompt, args.save)
            stored = db.call(library.save_version, prompt.id, generated.template,
                             generated.values, {}, message="Generated from a task")  # fmt: skip
    if args.json:
        data = {"template": generated.template, "values": generated.values, "prompt": args.save,
                "version": None if stored is None else stored.number}  # fmt: skip
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(generated.template)
        print(f"\nsample values: {json.dumps(generated.values, ensure_ascii=False)}")
    if stored is not None:
        print(f"saved as {args.save} v{stored.number}", file=sys.stderr)
    return 0


def _generate_cases(args: argparse.Namespace) -> int:
    from promptstudio.improve import CASE_GENERATOR, FeatureError, ask, feature_messages
    from promptstudio.improve.generating import (
        case_generator_values,
        parse_generated_cases,
        store_generated_cases,
    )

    target = _one_target(args)
    with open_db(args) as db:
        prompt, version = _library_prompt(db, args.prompt)
        values = case_generator_values(version.template, args.n)
        messages = db.call(feature_messages, CASE_GENERATOR, values)
        try:
            reply = asyncio.run(ask(target, messages, price_table=_prices(args)))
            cases = parse_generated_cases(reply.text, version.template, args.n)
        except FeatureError as exc:
            raise CliError(f"no cases generated: {exc.message}") from exc
        rows = db.call(store_generated_cases, prompt.id, cases)
    if args.json:
        data = {"prompt": prompt.name, "cases": [
            {"id": row.id, **row.to_exchange(), "generated": True} for row in rows]}  # fmt: skip
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        for row in rows:
            checks = len(row.asserts)
            print(f"+ {row.description or row.vars} ({checks} check{'s' * (checks != 1)})")
    print(f"added {len(rows)} generated case(s) to {prompt.name}; review them in the app",
          file=sys.stderr)  # fmt: skip
    return 0


# ---- optimize ---------------------------------------------------------------------------


def _optimize(args: argparse.Namespace) -> int:
    from promptstudio.improve.optimise import STOP_BUDGET, Optimiser
    from promptstudio.storage import optimisations

    improver = Place(
        "url" if args.improver_base_url else "profile",
        args.improver_base_url or args.improver_profile,
    )
    improver_target = _one_target(args, [(improver, args.improver_model)])
    for name, value in (
        ("judge", None),
        ("fresh", False),
        ("allow_code_checks", False),
        ("repeat", 1),
        ("values", {}),
        ("dry_run", False),
        ("file", ""),
    ):
        setattr(args, name, value)  # what ``eval``'s evaluation reads  # fmt: skip
    with open_db(args) as db:
        prompt, version = _library_prompt(db, args.prompt)
        runner = _CandidateEvaluations(args, db, prompt)
        optimiser = Optimiser(
            prompt.name, version,
            propose=lambda values: _propose(db, improver_target, values, args),
            evaluate=runner.evaluate,
            save_candidate=lambda parent, template, message: _save(db, parent, template, message),
            rounds=args.rounds, candidates=args.candidates, goal=args.goal,
            on_progress=lambda text: print(f"  {text}", file=sys.stderr),
        )  # fmt: skip
        runner.optimiser = optimiser
        report = asyncio.run(optimiser.run())
        chosen = report.chosen or report.original
        row = db.call(optimisations.save_optimisation, prompt.id, version.id,
                      chosen.version_id, report.stopped, report.to_dict())  # fmt: skip
    if args.json:
        data = report.to_dict() | {"optimisation_id": row.id}
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif args.markdown:
        sys.stdout.write(report.to_markdown())
    else:
        rows = report.table()
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        print(f"\nchosen: v{chosen.version} · stopped: {report.stopped} · spent "
              f"{report.to_markdown().split('Spent ', 1)[1].split(chr(10))[0]}")  # fmt: skip
    print(f"stored as optimisation {row.id}; promote the winner with "
          f"`promptstudio label {prompt.name} {chosen.version} NAME`", file=sys.stderr)  # fmt: skip
    return 1 if report.stopped == STOP_BUDGET else 0


async def _propose(db: Database, target: RunTarget, values: Any, args: argparse.Namespace) -> Any:
    from promptstudio.improve import OPTIMISER, ask, feature_messages

    messages = await db.acall(feature_messages, OPTIMISER, values)
    return await ask(target, messages, price_table=_prices(args))


async def _save(db: Database, parent: int, template: str, message: str) -> VersionRow:
    from promptstudio.storage import library

    return await db.acall(  # type: ignore[no-any-return]
        library.branch_version, parent, template, kind="candidate", message=message
    )


class _CandidateEvaluations:
    """Each candidate evaluated as ``eval`` evaluates a prompt, all under one budget."""

    def __init__(self, args: argparse.Namespace, db: Database, prompt: PromptRow) -> None:
        self.args, self.db, self.prompt = args, db, prompt
        self.budget: Any = None
        self.planned = False
        self.optimiser: Any = None

    async def evaluate(self, version: VersionRow) -> EvalRun:
        from promptstudio.cli.evaluate import build_evaluation, show_plan
        from promptstudio.evals.store import save_run
        from promptstudio.exchange import PromptDocument

        doc = PromptDocument.from_library(self.prompt, version)
        _columns, evaluation = build_evaluation(self.args, self.db, doc, self.prompt)
        if not self.planned:
            self.planned = True
            show_plan(self.args, self.db, evaluation, self.prompt)
            self.budget = evaluation.budget
            if self.optimiser is not None:
                self.optimiser.budget = self.budget
                self.optimiser.report.max_cost = getattr(self.budget, "limit", None)
        evaluation.budget = self.budget
        run = await evaluation.run()
        return await self.db.acall(save_run, version.id, run)  # type: ignore[no-any-return]
