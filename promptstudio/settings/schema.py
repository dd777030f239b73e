"""Every user setting, declared once as data.

The settings dialog, validation and defaults all derive from :data:`SETTINGS`; adding a
setting is one entry here. Names are dotted (``group.name``). Values are plain JSON types
so ``settings.json`` stays readable. Keys are never settings: they live in the keychain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

SettingType = Literal["float", "int", "str", "text", "bool", "choice"]


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    type: SettingType
    default: object
    description: str
    group: str
    label: str
    optional: bool = False  # None is allowed and means "let the server decide"
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    unit: str = ""
    check: Callable[[object], str | None] | None = None  # extra rule: an error or None

    def validate(self, value: object) -> object:
        """Return ``value`` in its canonical type, or raise ValueError with a plain reason."""
        if value is None or value == "":
            if self.optional:
                return None
            raise ValueError(f"{self.label} needs a value.")
        checked: object
        if self.type == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"{self.label} must be on or off.")
            checked = value
        elif self.type in ("int", "float"):
            if isinstance(value, bool):
                raise ValueError(f"{self.label} must be a number.")
            try:
                number = value if isinstance(value, int | float) else float(str(value))
            except (TypeError, ValueError):
                raise ValueError(f"{self.label} must be a number.") from None
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError(f"{self.label} must be a finite number.")
            if self.type == "int":
                if float(number) != int(number):
                    raise ValueError(f"{self.label} must be a whole number.")
                number = int(number)
            else:
                number = float(number)
            if self.minimum is not None and number < self.minimum:
                raise ValueError(f"{self.label} must be at least {self.minimum:g}{self.unit}.")
            if self.maximum is not None and number > self.maximum:
                raise ValueError(f"{self.label} must be at most {self.maximum:g}{self.unit}.")
            checked = number
        elif self.type == "choice":
            if value not in self.choices:
                raise ValueError(f"{self.label} must be one of: {', '.join(self.choices)}.")
            checked = value
        else:  # str, text
            if not isinstance(value, str):
                raise ValueError(f"{self.label} must be text.")
            checked = value.strip()
            if not checked:
                return None if self.optional else ""
        if self.check is not None:
            problem = self.check(checked)
            if problem:
                raise ValueError(problem)
        return checked


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "run.temperature",
        "float",
        None,
        "Sampling temperature sent when a column "
        "does not set its own. Empty: the server's default.",
        "Run defaults",
        "Temperature",
        optional=True,
        minimum=0.0,
        maximum=2.0,
    ),
    Setting(
        "run.top_p",
        "float",
        None,
        "Nucleus sampling (top_p). Empty: the server's default.",
        "Run defaults",
        "Top p",
        optional=True,
        minimum=0.0,
        maximum=1.0,
    ),
    Setting(
        "run.max_tokens",
        "int",
        None,
        "Maximum output tokens. Empty: the server's default (Anthropic needs one: 4096 is used).",
        "Run defaults",
        "Max tokens",
        optional=True,
        minimum=1,
        maximum=1_000_000,
    ),
    Setting(
        "run.tool_steps",
        "int",
        5,
        "In a column's automatic tool mode, the answers one run may take at most: each time "
        "the model calls tools, the mock results go back and the next answer streams.",
        "Run defaults",
        "Tool steps",
        minimum=1,
        maximum=50,
    ),
    Setting(
        "timeouts.connect",
        "float",
        5.0,
        "How long to wait for a connection to the server.",
        "Timeouts",
        "Connect",
        minimum=0.5,
        maximum=120,
        unit=" s",
    ),
    Setting(
        "timeouts.first_token",
        "float",
        120.0,
        "How long to wait for the first token of an answer (models that think first need longer).",
        "Timeouts",
        "First token",
        minimum=1,
        maximum=3600,
        unit=" s",
    ),
    Setting(
        "timeouts.idle",
        "float",
        60.0,
        "How long a stream may stay silent before it counts as stalled.",
        "Timeouts",
        "Idle (stall)",
        minimum=1,
        maximum=3600,
        unit=" s",
    ),
    Setting(
        "timeouts.max_retries",
        "int",
        2,
        "How often a failed request is retried (429, 5xx, connection errors), with backoff.",
        "Timeouts",
        "Retries",
        minimum=0,
        maximum=10,
    ),
    Setting(
        "evaluate.local_limit",
        "int",
        1,
        "Requests sent at once to a server on this machine (Ollama, llama.cpp, LM Studio "
        "answer one at a time) while evaluating test cases.",
        "Evaluate",
        "Local server: requests at once",
        minimum=1,
        maximum=64,
    ),
    Setting(
        "evaluate.remote_limit",
        "int",
        4,
        "Requests sent at once to each hosted API while evaluating test cases "
        "(lower it if the provider answers 429).",
        "Evaluate",
        "Hosted API: requests at once",
        minimum=1,
        maximum=64,
    ),
    Setting(
        "evaluate.max_cost",
        "float",
        None,
        "Stop an evaluation before its spending (real usage at the price table's rates) "
        "would exceed this many US dollars; empty: no limit. The Evaluate tab's budget "
        "field and eval --max-cost override it.",
        "Evaluate",
        "Budget per evaluation",
        optional=True,
        minimum=0,
        unit="USD",
    ),
    Setting(
        "editor.font_family",
        "str",
        None,
        "Font of the template editor. Empty: the system's fixed-width font.",
        "Editor",
        "Font",
        optional=True,
    ),
    Setting(
        "editor.font_size",
        "int",
        11,
        "Font size of the template editor.",
        "Editor",
        "Font size",
        minimum=6,
        maximum=48,
        unit=" pt",
    ),
    Setting(
        "appearance.theme",
        "choice",
        "system",
        "Light, dark, or follow the system's colour scheme.",
        "Appearance",
        "Theme",
        choices=("system", "light", "dark"),
    ),
    Setting(
        "local.start_with_app",
        "bool",
        True,
        "Once the local model is set up, start its server (about 300 MB of memory) each time "
        "PromptStudio starts. Off: File › Set up a local model… starts it when you want it.",
        "Local model",
        "Start with PromptStudio",
    ),
)


def _check_prices(value: object) -> str | None:
    from promptstudio.providers.pricing import parse_price_overrides

    try:
        parse_price_overrides(str(value))
    except ValueError as exc:
        return str(exc)
    return None


SETTINGS += (
    Setting(
        "prices.overrides",
        "text",
        None,
        "Your own prices, which win over the built-in table: one model a line, "
        "'model: input, output[, cached input]' in US dollars per million tokens.",
        "Prices",
        "Price overrides",
        optional=True,
        check=_check_prices,
    ),
)

SETTINGS += (
    Setting(
        "checks.embeddings_url",
        "str",
        None,
        "OpenAI-compatible base URL that serves /embeddings, for 'similar' and "
        "'answer-relevance' checks (Ollama: http://localhost:11434/v1; llama.cpp's server "
        "with --embedding). Empty: those checks are not graded.",
        "Checks",
        "Embeddings URL",
        optional=True,
    ),
    Setting(
        "checks.embeddings_profile",
        "str",
        None,
        "A provider profile's id whose URL and key serve embeddings (wins over the URL).",
        "Checks",
        "Embeddings provider",
        optional=True,
    ),
    Setting(
        "checks.embeddings_model",
        "str",
        None,
        "The embedding model, e.g. nomic-embed-text or text-embedding-3-small.",
        "Checks",
        "Embeddings model",
        optional=True,
    ),
    Setting(
        "checks.run_code",
        "bool",
        False,
        "Run 'python' checks: your code runs in a separate Python process with a 5 s limit. "
        "It is not a sandbox, so it stays off unless you turn it on here; an imported config "
        "never turns it on.",
        "Checks",
        "Run code checks",
    ),
)

BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}


def defaults() -> dict[str, object]:
    return {setting.name: setting.default for setting in SETTINGS}


def groups() -> list[str]:
    return list(dict.fromkeys(setting.group for setting in SETTINGS))
