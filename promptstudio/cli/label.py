"""``promptstudio label``: move (or create) a prompt's label, through its gate, for CI.

    promptstudio label PROMPT VERSION NAME [--gate-pass-rate RATE] [--gate-lower-bound]
                       [--models MODEL ...] [--no-gate] [--json]

VERSION is a number (``3`` or ``v3``) or ``latest``. With a gate on the label (stored by an
earlier ``--gate-pass-rate``, or given now), a version whose latest evaluation does not meet
it is refused: exit 1, the numbers on stderr, the label left where it was
(:mod:`promptstudio.evals.gates`).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from promptstudio.cli import CliError
from promptstudio.cli.library import emit, find_prompt, open_db
from promptstudio.cli.options import fraction

if TYPE_CHECKING:  # the command imports the core lazily, as the others do
    from promptstudio.evals.gates import GateCheck, Promotion


def add_label_command(commands: Any, data: argparse.ArgumentParser) -> None:
    label = commands.add_parser(
        "label", parents=[data], help="move or create a label (gated by evaluations)"
    )
    label.add_argument("prompt", metavar="PROMPT", help="a prompt's name or id")
    label.add_argument("version", metavar="VERSION", help="a version number (3, v3) or latest")
    label.add_argument("name", metavar="NAME", help='the label, e.g. "production"')
    label.add_argument("--gate-pass-rate", type=fraction, metavar="RATE",
                       help="store a gate on the label: the version's latest evaluation must "
                            "pass at least this share of cases (0.9 or 90%%)")  # fmt: skip
    label.add_argument("--gate-lower-bound", action="store_true",
                       help="the gate compares the lower end of the 95%% interval")  # fmt: skip
    label.add_argument(
        "--models",
        nargs="+",
        default=[],
        metavar="MODEL",
        help="the gate's models, by name (default: every model of the evaluation)",
    )
    label.add_argument("--no-gate", action="store_true", help="take the label's gate away")
    label.add_argument("--json", action="store_true", help="machine-readable output")
    label.set_defaults(handler=_label)


def _label(args: argparse.Namespace) -> int:
    from promptstudio.evals.gates import GateRefused, move_label
    from promptstudio.storage.rows import LabelGate

    if args.gate_pass_rate is None and (args.gate_lower_bound or args.models):
        raise CliError("--gate-lower-bound and --models go with --gate-pass-rate", exit_code=2)
    if args.no_gate and args.gate_pass_rate is not None:
        raise CliError("--no-gate and --gate-pass-rate contradict each other", exit_code=2)
    gate = None
    if args.gate_pass_rate is not None:
        models = tuple(
            name.strip() for arg in args.models for name in arg.split(",") if name.strip()
        )
        gate = LabelGate(args.gate_pass_rate, args.gate_lower_bound, models)
    with open_db(args) as db:
        prompt = db.call(find_prompt, args.prompt)
        version_id = db.call(_version_id, prompt.id, args.version)
        try:
            done = db.call(move_label, prompt.id, args.name, version_id, gate=gate,
                           clear_gate=args.no_gate)  # fmt: skip
        except GateRefused as refused:
            if args.json:
                emit(args, {"prompt": prompt.name, "label": refused.label, "moved": False,
                            "version": refused.check.version_number, "label_version":
                            refused.current, **_check_data(refused.check)}, [])  # fmt: skip
            print(f"promptstudio: {refused.message}", file=sys.stderr)
            return 1
    emit(args, _moved_data(prompt.name, done), _moved_lines(prompt.name, done))
    return 0


def _version_id(conn: Any, prompt_id: int, text: str) -> int:
    from promptstudio.storage import NotFound, library

    if text.strip().casefold() == "latest":
        found = library.latest_version_id(conn, prompt_id)
        if found is None:
            raise CliError("the prompt has no versions yet")
        return found
    digits = text.strip().removeprefix("v").removeprefix("V")
    if not digits.isdigit():
        raise CliError(f"{text!r} is not a version number (3, v3) or latest", exit_code=2)
    try:
        return library.get_version_by_number(conn, prompt_id, int(digits)).id
    except NotFound:
        raise CliError(f"the prompt has no version {int(digits)}") from None


def _check_data(check: GateCheck | None) -> dict[str, Any]:
    if check is None:
        return {"gate": None, "models": []}
    gate = check.gate
    return {
        "gate": {"pass_rate": gate.pass_rate, "lower_bound": gate.lower_bound,
                 "models": list(gate.models)},
        "models": [
            {"model": v.model, "met": v.met, "evaluation": v.evaluation or None,
             "passed": v.rate.passed if v.rate else None,
             "graded": v.rate.total if v.rate else None,
             "pass_rate": v.rate.rate if v.rate else None,
             "pass_rate_low": v.rate.interval.low if v.rate and v.rate.interval else None,
             "missing_cases": v.missing_cases}
            for v in check.verdicts
        ],
    }  # fmt: skip


def _moved_data(prompt: str, done: Promotion) -> dict[str, Any]:
    return {"prompt": prompt, "label": done.label.name, "moved": True,
            "version": done.version_number, "previous": done.previous,
            **_check_data(done.check)}  # fmt: skip


def _moved_lines(prompt: str, done: Promotion) -> list[str]:
    where = f"v{done.version_number} of {prompt!r}"
    moved = (
        f" (was on v{done.previous})" if done.previous not in (None, done.version_number) else ""
    )
    lines = [f'Label "{done.label.name}" is on {where}{moved}.']
    if done.label.gate is not None:
        lines.append(f"Gate: {done.label.gate.describe()}.")
    if done.check is not None:
        lines.extend(f"  {line}" for line in done.check.lines())
    return lines
