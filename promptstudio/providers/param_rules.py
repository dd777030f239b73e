"""What each generation setting may be: one table for the run column's editors and imports.

The run column builds its editors from this table (one per entry, in its order: label,
step, decimals, whether it sits on the column's main row or under "More", tooltip), every
importer checks a file's settings against it (:func:`checked_params`) and the CLI's flags
take their ranges from it, so a file cannot carry a value the editor could not have
produced (``"temperature": "hot"``, ``max_tokens: -5``) to a server.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final


class ParamError(ValueError):
    """A setting's value breaks its rule; the message names the setting and the rule."""


#: Every (API, provider kind) pair a request can go over; see ``providers.apis``.
API_KINDS: Final = (
    ("chat", "openai"),
    ("chat", "openai-compatible"),
    ("responses", "openai"),
    ("responses", "openai-compatible"),
    ("messages", "anthropic"),
)
_RESPONSES = (("responses", "openai"), ("responses", "openai-compatible"))


@dataclass(frozen=True, slots=True)
class ParamRule:
    """One setting: its kind (``number``, ``integer``, ``choice``, ``texts``, ``flag``,
    ``object``) and, for numbers, the inclusive range; for a choice, the words allowed;
    ``refused_by``: the (API, provider kind) pairs that cannot carry it.

    How the run column shows it: ``label`` (beside its editor), ``short`` (in a folded
    column's title), ``tip`` (tooltip and accessible description), ``placeholder`` (what an
    empty editor says), ``step`` and ``decimals`` (numbers), ``main`` (on the column's main
    row; else under "More").

    A setting has no default value of its own: left unset (None) it is not sent, and the
    server's default applies (or the settings' run defaults, see ``runs.columns``)."""

    kind: str
    minimum: float = 0
    maximum: float = 0
    choices: tuple[str, ...] = ()
    refused_by: tuple[tuple[str, str], ...] = ()
    label: str = ""
    short: str = ""
    tip: str = ""
    placeholder: str = "default"
    step: float = 1
    decimals: int = 0
    main: bool = False
    # A choice that also takes other words (a tool's name for tool_choice).
    open: bool = False

    def accepted_by(self, api: str, kind: str) -> bool:
        """Whether a request over ``api`` to a provider of ``kind`` can carry the setting."""
        return (api, kind) not in self.refused_by

    def allowed(self) -> str:
        """The rule in words: "a number from 0 to 2"."""
        if self.kind == "number":
            return f"a number from {self.minimum:g} to {self.maximum:g}"
        if self.kind == "integer":
            return f"a whole number from {int(self.minimum)} to {int(self.maximum)}"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices) + (" or a name" if self.open else "")
        if self.kind == "texts":
            return "a list of texts"
        if self.kind == "flag":
            return "true or false"
        return "a JSON object"

    def checked(self, value: Any) -> Any:
        """``value`` if it keeps the rule (a whole float becomes an int, one text a list)."""
        if self.kind in ("number", "integer"):
            number = value if _is_number(value) else None
            if self.kind == "integer" and isinstance(number, float) and number.is_integer():
                number = int(number)
            if self.kind == "integer" and not isinstance(number, int):
                number = None
            if number is not None and self.minimum <= number <= self.maximum:
                return number
        elif self.kind == "choice":
            if value in self.choices or (self.open and _is_name(value)):
                return value
        elif self.kind == "texts":
            texts = [value] if isinstance(value, str) else value
            if isinstance(texts, list) and all(isinstance(text, str) for text in texts):
                return list(texts)
        elif self.kind == "flag":
            if isinstance(value, bool):
                return value
        elif isinstance(value, dict):
            return value
        raise ParamError(f"{_shown(value)} is not allowed; it must be {self.allowed()}")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_name(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip()) and len(value) <= 128


def _shown(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


#: The rule of every :class:`~promptstudio.providers.base.GenerationParams` setting, in the
#: order the run column shows them. OpenAI's own API rejects top_k; compatible servers (vLLM,
#: llama.cpp, LM Studio, Ollama) take it as an extra body field.
PARAM_RULES: Final[dict[str, ParamRule]] = {
    "temperature": ParamRule(
        "number",
        0,
        2,
        label="Temp.",
        short="T",
        step=0.1,
        decimals=2,
        main=True,
        tip="Temperature: 0 answers nearly the same each time, higher varies more. "
        "Empty: the server's default.",
    ),
    "max_tokens": ParamRule(
        "integer",
        1,
        1_000_000,
        label="Max tokens",
        short="max",
        main=True,
        tip="The most tokens the answer may have. Empty: the server's default.",
    ),
    "top_p": ParamRule(
        "number",
        0,
        1,
        label="top_p",
        short="top_p",
        step=0.05,
        decimals=2,
        tip="Nucleus sampling: pick only among the likeliest tokens that together reach this "
        "probability. Empty: the server's default.",
    ),
    "top_k": ParamRule(
        "integer",
        1,
        1000,
        refused_by=(("chat", "openai"), *_RESPONSES),
        label="top_k",
        short="top_k",
        tip="Pick only among the k likeliest tokens. Empty: the server's default.",
    ),
    "seed": ParamRule(
        "integer",
        0,
        2**31 - 1,
        refused_by=(*_RESPONSES, ("messages", "anthropic")),
        label="Seed",
        short="seed",
        placeholder="none",
        tip="The same seed asks for the same answer again, where the server supports it. "
        "Empty: none.",
    ),
    "reasoning_effort": ParamRule(
        "choice",
        choices=("low", "medium", "high"),
        label="Reasoning",
        short="reasoning",
        tip="How long a reasoning model thinks before it answers. default: the server's.",
    ),
    "thinking_budget": ParamRule(
        "integer",
        1,
        200_000,
        refused_by=tuple(pair for pair in API_KINDS if pair[0] != "messages"),
        label="Thinking",
        short="thinking",
        placeholder="off",
        step=1024,
        tip="Anthropic extended thinking: the tokens the model may think. Empty: off.",
    ),
    "stop": ParamRule(
        "texts",
        refused_by=_RESPONSES,
        label="Stop",
        short="stop",
        placeholder="stop sequences, separated by |",
        tip="Stop sequences, separated by |: the answer ends before any of them.",
    ),
    "json_mode": ParamRule(
        "flag",
        refused_by=(("messages", "anthropic"),),
        label="JSON",
        short="JSON",
        tip="Ask for a JSON object (JSON mode)",
    ),
    "json_schema": ParamRule(
        "object",
        label="Schema…",
        short="JSON schema",
        tip="Constrain the answer to a JSON schema",
    ),
    "tool_choice": ParamRule(
        "choice",
        choices=("auto", "none", "required"),
        open=True,
        label="Tool choice",
        short="tools",
        tip="Whether the model may call the prompt's tools: auto (it decides), none, "
        "required (it must call one), or type a tool's name to make it call that tool. "
        "default: the server's (auto).",
    ),
    "parallel_tool_calls": ParamRule(
        "choice",
        choices=("yes", "no"),
        label="Parallel calls",
        short="parallel",
        tip="Whether the model may call several tools in one turn. default: the server's (yes).",
    ),
}


def checked_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with every known setting checked against its rule; other names, and None
    ("not set"), pass as they are. :class:`ParamError` names the first setting that breaks
    its rule."""
    checked: dict[str, Any] = {}
    for name, value in params.items():
        rule = PARAM_RULES.get(name)
        if rule is None or value is None:
            checked[name] = value
        else:
            try:
                checked[name] = rule.checked(value)
            except ParamError as exc:
                raise ParamError(f"{name}: {exc}") from None
    return checked
