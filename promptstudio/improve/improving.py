"""Improve prompt: a model's critique and rewrite of a version, checked, then accepted."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass

from promptstudio.chat import Message
from promptstudio.improve.asking import ask
from promptstudio.improve.errors import RewriteRejected
from promptstudio.improve.rewrite import check_rewrite, parse_proposal
from promptstudio.providers import PriceTable
from promptstudio.runs import RunTarget, ServerLimits
from promptstudio.storage import library
from promptstudio.storage.rows import VersionRow
from promptstudio.templating import TemplateError, input_names


@dataclass(frozen=True, slots=True)
class Improvement:
    """A checked rewrite of ``original`` with the model's critique."""

    original: str
    template: str
    critique: str
    cost: float | None = None


def improver_values(template: str, goal: str = "") -> dict[str, object]:
    """What the improver prompt is rendered with."""
    return {"template": template, "goal": goal.strip(), "variables": variable_list(template)}


def variable_list(template: str) -> str:
    try:
        names = input_names(template)
    except TemplateError:
        return "(the template does not parse)"
    return ", ".join(names) if names else "(none)"


async def propose_improvement(
    target: RunTarget,
    messages: list[Message],
    original: str,
    values: Mapping[str, object] | None = None,
    *,
    price_table: PriceTable | None = None,
    limits: ServerLimits | None = None,
) -> Improvement:
    """Ask the improver (``messages``: the improver prompt rendered) and check its rewrite;
    :class:`RewriteRejected` says why a rewrite is refused."""
    reply = await ask(target, messages, price_table=price_table, limits=limits)
    proposal = parse_proposal(reply.text)
    if proposal.template.strip() == original.strip():
        raise RewriteRejected("The rewrite is the same as the current template.")
    check_rewrite(original, proposal.template, values)
    return Improvement(original, proposal.template, proposal.critique, reply.cost)


def accept_improvement(
    conn: sqlite3.Connection, original_version_id: int, improvement: Improvement
) -> VersionRow:
    """Save the rewrite as a new version whose parent is the original (kind "improved")."""
    first = improvement.critique.strip().splitlines()[0] if improvement.critique.strip() else ""
    message = "Improved" + (f": {first[:120]}" if first else "")
    return library.branch_version(
        conn, original_version_id, improvement.template, kind="improved", message=message
    )
