"""The rows the library hands out: frozen dataclasses with JSON columns already decoded.

Frozen so a row can be passed to the UI thread and cached without anyone changing it
behind the database's back. New fields get defaults so older callers keep working.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any, Literal

from promptstudio.storage.sql import split_list, stored_json


@dataclass(frozen=True, slots=True)
class PromptRow:
    id: int
    name: str
    folder: str
    created_at: str
    updated_at: str
    trashed_at: str | None = None
    starred: bool = False
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CaseRow:
    """One test case of a prompt: a value per variable, optionally what should come back."""

    id: int
    prompt_id: int
    position: int
    vars: dict[str, Any]
    description: str = ""
    expected: str | None = None
    asserts: list[dict[str, Any]] = field(default_factory=list)
    threshold: float | None = None  # promptfoo's: the weighted score the case passes at
    generated: bool = False  # written by a model ("Generate test cases"), for review

    def to_exchange(self) -> dict[str, Any]:
        """The case in the exchange formats' shape (promptfoo's ``tests`` entries)."""
        case: dict[str, Any] = {"vars": dict(self.vars)}
        if self.description:
            case["description"] = self.description
        if self.expected is not None:
            case["expected"] = self.expected
        if self.asserts:
            case["assert"] = [dict(check) for check in self.asserts]
        if self.threshold is not None:
            case["threshold"] = self.threshold
        return case


@dataclass(frozen=True, slots=True)
class EvalRunRow:
    """One stored evaluation of a version (its cells come from ``eval_cells``)."""

    id: int
    prompt_id: int
    version_id: int
    version_number: int | None
    columns: list[dict[str, Any]]
    cases: list[dict[str, Any]]
    settings: dict[str, Any]
    status: str
    created_at: str


@dataclass(frozen=True, slots=True)
class EvalSettingsRow:
    """A prompt's checks for every case, and its judge (prompt text and run column)."""

    prompt_id: int
    asserts: list[dict[str, Any]] = field(default_factory=list)
    judge_prompt: str | None = None
    judge_column: str | None = None


@dataclass(frozen=True, slots=True)
class VersionRow:
    id: int
    prompt_id: int
    parent_id: int | None
    template: str
    variables: dict[str, Any]
    settings: dict[str, Any]
    message: str
    kind: str
    created_at: str
    content_hash: str = ""
    number: int = 0
    """1, 2, 3 … within the prompt: what the UI shows as "v7"."""


@dataclass(frozen=True, slots=True)
class RunRow:
    id: int
    version_id: int
    variables: dict[str, Any]
    created_at: str


@dataclass(frozen=True, slots=True)
class ResponseRow:
    id: int
    run_id: int
    base_url: str
    model: str
    params: dict[str, Any]
    messages: list[dict[str, Any]]
    text: str
    status: str
    error: str | None
    finish_reason: str | None
    ttft_ms: float | None
    total_ms: float | None
    input_tokens: int | None
    output_tokens: int | None
    usage_estimated: bool
    cost: float | None
    created_at: str
    steps: tuple[StepRow, ...] = ()  # a conversation continued from this answer
    tool_calls: tuple[dict[str, Any], ...] = ()  # the calls the answer made
    rating: int | None = None  # 1 good, -1 bad (storage.ratings)
    rating_note: str = ""

    @property
    def total_cost(self) -> float | None:
        """The cost of the answer and of every step after it (None when none is known)."""
        known = [c for c in (self.cost, *(s.cost for s in self.steps)) if c is not None]
        return sum(known) if known else None


@dataclass(frozen=True, slots=True)
class StepRow:
    """A later step of a conversation: the turns added, then the model's reply."""

    id: int
    response_id: int
    step: int  # 1, 2, ...: the response itself is step 0
    turns: list[dict[str, Any]]
    text: str
    status: str
    error: str | None
    finish_reason: str | None
    ttft_ms: float | None
    total_ms: float | None
    input_tokens: int | None
    output_tokens: int | None
    usage_estimated: bool
    cost: float | None
    created_at: str
    tool_calls: tuple[dict[str, Any], ...] = ()  # the calls the reply made


@dataclass(frozen=True, slots=True)
class RunWithResponses:
    run: RunRow
    responses: tuple[ResponseRow, ...]


@dataclass(frozen=True, slots=True)
class VersionSummary:
    """One line of the history panel: no template text, so a page of 200 stays small."""

    id: int
    prompt_id: int
    number: int
    parent_id: int | None
    kind: str
    created_at: str
    message: str
    labels: tuple[str, ...]
    run_count: int
    response_count: int
    best_cost: float | None
    """Lowest cost among the version's responses with status "done"."""
    best_total_ms: float | None
    """Lowest total time among the version's responses with status "done"."""


@dataclass(frozen=True, slots=True)
class LabelGate:
    """What a version must reach before a label moves to it: its latest evaluation's pass
    rate (or, with ``lower_bound``, its 95% interval's lower bound) on every one of
    ``models`` (none named: every model of that evaluation), on the prompt's current cases."""

    pass_rate: float  # 0..1
    lower_bound: bool = False
    models: tuple[str, ...] = ()

    def describe(self) -> str:
        """``pass rate ≥ 90% on gpt-4o-mini``; ``lower bound of the 95% interval ≥ 80%``."""
        what = "the 95% interval's lower bound" if self.lower_bound else "pass rate"
        where = f" on {', '.join(self.models)}" if self.models else " on every model"
        return f"{what} ≥ {self.pass_rate:.0%}{where}"


@dataclass(frozen=True, slots=True)
class LabelRow:
    prompt_id: int
    name: str
    version_id: int
    updated_at: str
    gate: LabelGate | None = None


@dataclass(frozen=True, slots=True)
class TagCount:
    tag: str
    prompts: int
    """Prompts outside the trash that carry the tag."""


@dataclass(frozen=True, slots=True)
class Draft:
    """Unsaved editor content, autosaved so a crash loses at most a few seconds of typing."""

    prompt_id: int
    prompt_name: str
    template: str
    variables: dict[str, Any]
    settings: dict[str, Any]
    content_hash: str
    base_version_id: int | None
    """The prompt's latest version when the draft was written (None: it had none)."""
    updated_at: str


HitKind = Literal["prompt", "version", "response", "eval_cell"]


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One search result: the best match of one kind within one prompt."""

    kind: HitKind
    prompt_id: int
    prompt_name: str
    version_id: int | None
    """The version whose template matched, or the version the matching response ran."""
    response_id: int | None
    snippet: str
    highlights: tuple[tuple[int, int], ...]
    """(start, end) offsets of the matched text inside ``snippet``."""
    version_number: int | None = None
    is_latest: bool = False
    """For template hits: the match is in the prompt's current version."""
    eval_run_id: int | None = None
    """For a note on an evaluation cell (kind ``eval_cell``): the evaluation, and the
    cell's row (``eval_cell_id``); ``version_id`` is the version it evaluated."""
    eval_cell_id: int | None = None

    def marked(self, start: str = "[", end: str = "]") -> str:
        """The snippet with every match wrapped in ``start``/``end`` (e.g. ``<b>``, ``</b>``)."""
        out: list[str] = []
        position = 0
        for begin, finish in self.highlights:
            out += [self.snippet[position:begin], start, self.snippet[begin:finish], end]
            position = finish
        out.append(self.snippet[position:])
        return "".join(out)


def prompt_from(row: sqlite3.Row) -> PromptRow:
    keys = row.keys()
    return PromptRow(
        id=row["id"],
        name=row["name"],
        folder=row["folder"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        trashed_at=row["trashed_at"],
        starred=bool(row["starred"]) if "starred" in keys else False,
        tags=split_list(row["tags"]) if "tags" in keys else (),
    )


def version_from(row: sqlite3.Row) -> VersionRow:
    return VersionRow(
        id=row["id"],
        prompt_id=row["prompt_id"],
        parent_id=row["parent_id"],
        template=row["template"],
        variables=stored_json(row["variables"], {}),
        settings=stored_json(row["settings"], {}),
        message=row["message"],
        kind=row["kind"],
        created_at=row["created_at"],
        content_hash=row["content_hash"],
        number=row["number"] or 0,
    )


def run_from(row: sqlite3.Row) -> RunRow:
    return RunRow(
        id=row["id"],
        version_id=row["version_id"],
        variables=stored_json(row["variables"], {}),
        created_at=row["created_at"],
    )


def response_from(row: sqlite3.Row) -> ResponseRow:
    return ResponseRow(
        id=row["id"],
        run_id=row["run_id"],
        base_url=row["base_url"],
        model=row["model"],
        params=stored_json(row["params"], {}),
        messages=stored_json(row["messages"], []),
        **_answer_columns(row),
        # A Row's ``in`` looks at values, not names; an older SELECT may lack them.
        rating=row["rating"] if "rating" in row.keys() else None,  # noqa: SIM118
        rating_note=(row["rating_note"] or "") if "rating_note" in row.keys() else "",  # noqa: SIM118
    )


def step_from(row: sqlite3.Row) -> StepRow:
    return StepRow(
        id=row["id"],
        response_id=row["response_id"],
        step=row["step"],
        turns=stored_json(row["turns"], []),
        **_answer_columns(row),
    )


def _answer_columns(row: sqlite3.Row) -> dict[str, Any]:
    """What a response and a stored step of a conversation share: the answer's text, how
    it ended and its figures."""
    return {
        "text": row["text"],
        "status": row["status"],
        "error": row["error"],
        "finish_reason": row["finish_reason"],
        "ttft_ms": row["ttft_ms"],
        "total_ms": row["total_ms"],
        "input_tokens": row["input_tokens"],
        "output_tokens": row["output_tokens"],
        "usage_estimated": bool(row["usage_estimated"]),
        "cost": row["cost"],
        "created_at": row["created_at"],
        "tool_calls": tuple(stored_json(row["tool_calls"], []) if row["tool_calls"] else ()),
    }


def draft_from(row: sqlite3.Row) -> Draft:
    return Draft(
        prompt_id=row["prompt_id"],
        prompt_name=row["prompt_name"],
        template=row["template"],
        variables=stored_json(row["variables"], {}),
        settings=stored_json(row["settings"], {}),
        content_hash=row["content_hash"],
        base_version_id=row["base_version_id"],
        updated_at=row["updated_at"],
    )
