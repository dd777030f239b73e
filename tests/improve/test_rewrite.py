"""A model's rewrite is taken only when it keeps the variables and roles and renders."""

from __future__ import annotations

import pytest

from promptstudio.improve import RewriteRejected, check_rewrite, parse_proposal
from promptstudio.improve.generating import parse_generated_cases, parse_generated_prompt

ORIGINAL = "system:\nYou answer questions.\n\nuser:\n{{ question }} about {{ topic }}\n"


def test_the_critique_and_the_last_prompt_block_are_read() -> None:
    reply = "1. Add a role.\n2. Ask for JSON.\n<prompt>\nsystem:\nBe brief.\n</prompt>"
    proposal = parse_proposal(reply)
    assert proposal.critique == "1. Add a role.\n2. Ask for JSON."
    assert proposal.template == "system:\nBe brief.\n"


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("No tags at all.", "no rewrite between <prompt> and </prompt>"),
        ("<prompt>\n   \n</prompt>", "is empty"),
    ],
)
def test_a_reply_without_a_rewrite_is_rejected(reply: str, reason: str) -> None:
    with pytest.raises(RewriteRejected, match=reason):
        parse_proposal(reply)


@pytest.mark.parametrize(
    ("rewrite", "reason"),
    [
        ("user:\n{{ question }}\n", r"drops the variable \{\{ topic \}\}"),
        ("user:\n{{ question }} on {{ subject }}\n", "renames variables"),
        ("user:\n{{ question }} {{ topic }} {{ extra }}\n", "adds the variable"),
        ("user:\n{{ question }} {{ topic }\n", "not a valid template"),
        ("user:\n{{ question }} {{ topic | no_such_filter }}\n", "not"),
        ("system:\n{{ question }} {{ topic }}\n", "no user message left"),
        ("user:\n{{ question }} {{ topic }}\nassistant:\nSure\n", "ends with an assistant"),
    ],
)
def test_a_rewrite_that_breaks_the_prompt_is_rejected_with_the_reason(
    rewrite: str, reason: str
) -> None:
    with pytest.raises(RewriteRejected, match=reason):
        check_rewrite(ORIGINAL, rewrite, {"question": "Why?"})


def test_a_sound_rewrite_gives_its_messages() -> None:
    rewrite = (
        "system:\nYou are a tutor.\n1. Think.\n2. Answer.\n\nuser:\n{{ question }} / {{ topic }}\n"
    )
    messages = check_rewrite(ORIGINAL, rewrite, {"question": "Why?"})
    assert [m.role for m in messages] == ["system", "user"]
    assert messages[1].content == "Why? / example"


def test_a_generated_prompt_and_cases_are_read_and_checked() -> None:
    reply = (
        '<prompt>\nuser:\nSummarise <doc>{{ doc }}</doc>\n</prompt><values>{"doc": "x"}</values>'
    )
    generated = parse_generated_prompt(reply)
    assert generated.values == {"doc": "x"}
    cases = parse_generated_cases(
        '<cases>[{"vars": {"doc": "a", "other": 1}, "kind": "edge", "assert": '
        '[{"type": "contains", "value": "a"}]}, {"vars": {"nothing": 1}}]</cases>',
        generated.template,
    )
    assert cases == [{"vars": {"doc": "a"}, "description": "[edge]",
                      "assert": [{"type": "contains", "value": "a"}]}]  # fmt: skip
