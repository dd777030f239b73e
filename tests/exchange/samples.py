"""Documents shared by the exchange tests."""

from __future__ import annotations

from typing import Any

from promptstudio.exchange import PromptDocument
from promptstudio.exchange.document import column_from_dict
from promptstudio.runs.columns import ColumnConfig

TEMPLATE = """system:
You are a {{ tone }} assistant.

user:
Summarise for {{ name }}:
{% for item in items %}- {{ item }}
{% endfor %}
"""


def sample_document() -> PromptDocument:
    return PromptDocument(
        name="Summariser",
        description="Short summaries, friendly tone.",
        folder="work/summaries",
        tags=["summary", "demo"],
        template=TEMPLATE,
        variables={"tone": "friendly", "name": "Ada", "items": ["one", "two"], "n": 3},
        columns=columns(
            {
                "id": "c1",
                "profile": "openai",
                "base_url": "https://api.openai.com/v1",
                "model": "gpt-4o-mini",
                "params": {"temperature": 0.2, "max_tokens": 200, "stop": ["END"], "seed": 7},
            },
            {
                "id": "c2",
                "profile": "anthropic",
                "base_url": "https://api.anthropic.com",
                "model": "claude-3-5-haiku-latest",
                "params": {"temperature": 0.5, "top_p": 0.9, "max_tokens": 300},
            },
            {
                "id": "c3",
                "profile": "ollama",
                "base_url": "http://localhost:11434/v1",
                "model": "llama3.2",
                "params": {"top_k": 40},
            },
            {
                "id": "c4",
                "profile": "groq",
                "base_url": "https://api.groq.com/openai/v1",
                "model": "llama-3.1-8b-instant",
                "params": {"json_mode": True},
            },
        ),
        cases=[
            # The current values saved as a case: importers take the first case's vars
            # as the variables, so this keeps a promptfoo round trip whole.
            {"vars": {"tone": "friendly", "name": "Ada", "items": ["one", "two"], "n": 3}},
            {
                "description": "Dry tone, a single item",
                "vars": {"tone": "dry", "name": "Grace", "items": ["only"], "n": 1},
                "expected": "- only",
                "assert": [
                    {"type": "contains", "value": "only"},
                    {"type": "javascript", "value": "output.length < 400"},
                ],
            },
        ],
    )


def columns(*stored: dict[str, Any]) -> list[ColumnConfig]:
    """Run columns from their stored (``ColumnConfig.to_dict``) form."""
    return [column_from_dict(column) for column in stored]


def plain(configs: list[ColumnConfig]) -> list[dict[str, Any]]:
    """Columns as stored, without their ids (an import without ids makes new ones)."""
    return [{k: v for k, v in column.to_dict().items() if k != "id"} for column in configs]
