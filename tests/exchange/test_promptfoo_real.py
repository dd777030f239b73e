"""Exported promptfoo configs run in the real promptfoo CLI and grade as PromptStudio does.

The CLI is installed from npm into a cache (``tests/promptfoo_cli.py``); both tools ask
the same fake server, which answers each question with a fixed text, and every case's
verdict in promptfoo's output must be PromptStudio's verdict on the same case.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promptstudio.exchange import PromptDocument, to_promptfoo
from promptstudio.providers import ProviderProfile
from promptstudio.runs.columns import ColumnConfig
from promptstudio.tools import ToolDef
from tests.fake_llm import FakeLLM, Reply
from tests.promptfoo_cli import NpmMissing, install, run_eval

PROMPTSTUDIO = str(Path(sys.executable).with_name("promptstudio"))
TEMPLATE = "system:\nAnswer briefly.\n\nuser:\nQuestion: {{ q }}\n"
# question → the fake model's answer
ANSWERS = {
    "capital": "Paris",
    "capital, dotted": "Paris.",
    "rome": "It is Rome.",
    "madrid": "It is Madrid.",
    "digits": "123",
    "json": '{"a": 1}',
    "json inside": 'Here: {"b": 2}',
    "three words": "one two three",
    "emoji": "héllo👋",  # 6 code points, 7 UTF-16 units
    "short": "short",
    "other": "y",
    "street": "Die Straße.",
    'a "quoted"\nline \\ break': "ok",  # JSON-escaped inside promptfoo's chat prompt
}
# (question, expected answer or None, checks) — one case each
CASES: list[tuple[str, str | None, list[dict[str, Any]]]] = [
    ("capital", "Paris", []),
    ("capital, dotted", "Paris", []),
    ("rome", None, [{"type": "contains", "value": "Rome"}, {"type": "icontains", "value": "ROME"}]),
    ("madrid", None, [{"type": "not-contains", "value": "Madrid"},
                      {"type": "starts-with", "value": "It"}]),
    ("digits", None, [{"type": "regex", "value": r"^\d{3}$"}]),
    ("json", None, [{"type": "is-json",
                     "value": {"type": "object", "required": ["a"]}}]),
    ("json inside", None, [{"type": "contains-json"}]),
    ("json inside", None, [{"type": "contains-json",
                            "value": {"type": "object", "required": ["a"]}}]),
    ("three words", None, [{"type": "word-count", "value": {"min": 2, "max": 4}}]),
    ("three words", None, [{"type": "not-word-count", "value": 3}]),
    ("emoji", None, [{"type": "max-length", "value": 6}]),
    ("emoji", None, [{"type": "max-length", "value": 5}]),
    ("short", None, [{"type": "min-length", "value": 10}]),
    ("short", None, [{"type": "not-max-length", "value": 3},
                     {"type": "latency", "threshold": 60000}]),
    ("other", "x", [{"type": "not-equals"}]),
    ("street", None, [{"type": "icontains", "value": "STRASSE"}]),  # no case folding
    ("rome", None, [{"type": "contains", "value": "{{ q | capitalize }}"}]),  # rendered
    ('a "quoted"\nline \\ break', "ok", []),
]  # fmt: skip


@pytest.fixture(scope="session")
def promptfoo() -> Path:
    try:
        return install()
    except NpmMissing as exc:
        pytest.skip(f"the real promptfoo CLI cannot be installed: {exc}")


@pytest.fixture
def server(fake_llm: FakeLLM) -> Iterator[FakeLLM]:
    fake_llm.respond(lambda model, body: Reply(text=ANSWERS[_question(body)]))
    yield fake_llm


def _document(server: FakeLLM) -> PromptDocument:
    cases = []
    for question, expected, checks in CASES:
        case: dict[str, Any] = {"vars": {"q": question}}
        if expected is not None:
            case["expected"] = expected
        if checks:
            case["assert"] = checks
        cases.append(case)
    columns = [
        ColumnConfig(id="c1", base_url=server.base_url, model="fake-model"),
        # A custom profile of kind anthropic: exported as promptfoo's anthropic provider.
        ColumnConfig(id="c2", profile="my-claude", base_url=server.anthropic_base_url,
                     model="fake-claude"),
    ]  # fmt: skip
    doc = PromptDocument(name="Verdicts", template=TEMPLATE, columns=columns, cases=cases)
    doc.profiles = [
        ProviderProfile("my-claude", "anthropic", "My Claude", "https://proxy.example.com")
    ]
    doc.every_case_checks = [{"type": "not-icontains", "value": "sorry"}]  # as defaultTest
    return doc


def _promptstudio(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PROMPTSTUDIO, *args, "--data-dir", str(home)],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _add_keyless_profile(home: Path, profile: str, kind: str, base_url: str) -> None:
    """The profile a column of the exported config names, as PromptStudio's own."""
    added = _promptstudio(home, "providers", "add", profile, "--name", profile, "--kind", kind,
                          "--base-url", base_url, "--no-key")  # fmt: skip
    assert added.returncode == 0, added.stderr


def _promptstudio_verdicts(
    config: Path, home: Path, *options: str
) -> dict[tuple[int, str], bool | None]:
    """(case index, model) → PromptStudio's verdict, from ``promptstudio eval --json``."""
    process = _promptstudio(home, "eval", str(config), "--json", *options)
    assert process.returncode == 0, process.stderr
    data = json.loads(process.stdout)
    models = {column["id"]: column["model"] for column in data["columns"]}
    cases = {case["id"]: index for index, case in enumerate(data["cases"])}
    return {(cases[cell["case"]], models[cell["column"]]): cell["passed"] for cell in data["cells"]}


def _exported_and_run(
    doc: PromptDocument, folder: Path
) -> tuple[Path, dict[tuple[int, str], bool | None]]:
    """The document exported to ``folder``, and promptfoo's verdicts on it."""
    config = folder / "promptfooconfig.yaml"
    config.write_text(to_promptfoo(doc), encoding="utf-8")
    process, results = run_eval(config, folder / "out.json", folder / "promptfoo-state")
    assert results, process.stdout + process.stderr
    return config, _promptfoo_verdicts(results)


def _promptfoo_verdicts(results: dict[str, Any]) -> dict[tuple[int, str], bool | None]:
    """(case index, model) → promptfoo's verdict, from its ``-o out.json``."""
    rows = results["results"]["results"]
    errors = [row.get("error") for row in rows if row.get("failureReason") == 2]  # not a fail
    assert not errors, errors
    return {
        (row["testIdx"], row["provider"]["id"].rpartition(":")[2]): bool(row["success"])
        for row in rows
    }


def test_an_exported_config_grades_every_case_in_promptfoo_as_in_promptstudio(
    promptfoo: Path, server: FakeLLM, tmp_path: Path
) -> None:
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(to_promptfoo(_document(server)), encoding="utf-8")

    process, results = run_eval(config, tmp_path / "out.json", tmp_path / "promptfoo-state")

    assert results, process.stdout + process.stderr
    theirs = _promptfoo_verdicts(results)
    sent = server.generation_requests()
    assert [r.path for r in sent].count("/v1/messages") == len(CASES)  # the anthropic column
    assert len(sent) == 2 * len(CASES)
    assert all(not request.json.get("stream") for request in sent)
    chats = [_turns(r.json["messages"]) for r in server.chat_requests()]

    home = tmp_path / "home"
    _add_keyless_profile(home, "my-claude", "anthropic", server.anthropic_base_url)
    ours = _promptstudio_verdicts(config, home)
    assert len(server.generation_requests()) > len(sent)  # PromptStudio asked the same server
    our_chats = [_turns(r.json["messages"]) for r in server.chat_requests()[len(chats) :]]
    assert set(our_chats) == set(chats)  # the same messages (repeats come from its cache)
    assert ours == theirs
    assert list(ours.values()).count(True) == 22  # both verdicts, on both models
    assert list(ours.values()).count(False) == 14


# ---- a config written the way real ones are, imported ----------------------------------

CORPUS = Path(__file__).with_name("promptfoo_corpus")


def _turns(messages: list[dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    """Messages as (role, text): a list of text parts is its texts, one per line."""
    return tuple(
        (m["role"], m["content"] if isinstance(m["content"], str)
         else "\n".join(part["text"] for part in m["content"]))
        for m in messages
    )  # fmt: skip


def _rendered(raw: str) -> tuple[tuple[str, str], ...]:
    """What promptfoo sent for a rendered prompt: a chat list, or the text as one user turn."""
    try:
        messages = json.loads(raw)
    except ValueError:
        return (("user", raw),)
    return _turns(messages)


def test_a_real_world_config_imports_to_what_promptfoo_sends_and_grades_the_same(
    promptfoo: Path, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    import shutil
    from collections import Counter

    from promptstudio.exchange.formats import import_file
    from promptstudio.templating import render_messages

    folder = tmp_path / "corpus"
    shutil.copytree(CORPUS, folder)
    config = folder / "promptfooconfig.yaml"
    config.write_text(config.read_text().replace("FAKE_BASE_URL", fake_llm.base_url))

    def answer(model: str, body: dict[str, Any]) -> Reply:
        text = json.dumps(body["messages"]).lower()
        if "dogs" in text:
            return Reply(text="The answer")
        return Reply(text="Cats are great." if "cats" in text else "Birds of prey soar.")

    fake_llm.respond(answer)
    process, results = run_eval(config, tmp_path / "out.json", tmp_path / "promptfoo-state")
    assert results, process.stdout + process.stderr
    sent_by_promptfoo = [
        (r.json["model"], _turns(r.json["messages"])) for r in fake_llm.chat_requests()
    ]
    theirs = {
        (row["provider"]["id"].rpartition(":")[2], _rendered(row["prompt"]["raw"])): row["success"]
        for row in results["results"]["results"]
    }

    home = tmp_path / "home"
    imported = _promptstudio(home, "import", str(config))
    assert imported.returncode == 0, imported.stderr
    assert "'javascript' in test 3" in imported.stdout  # kept, not graded: and said so
    ours: dict[tuple[str, tuple[tuple[str, str], ...]], bool | None] = {}
    for doc in import_file(config):
        process = _promptstudio(home, "eval", doc.name, "--json")
        assert process.returncode == 0, process.stderr
        data = json.loads(process.stdout)
        models = {column["id"]: column["model"] for column in data["columns"]}
        cases = {case["id"]: case["vars"] for case in data["cases"]}
        for cell in data["cells"]:
            messages = render_messages(doc.template, cases[cell["case"]])
            turns = tuple((m.role, m.content) for m in messages)
            ours[(models[cell["column"]], turns)] = cell["passed"]
    sent_by_us = [(r.json["model"], _turns(r.json["messages"]))
                  for r in fake_llm.chat_requests()[len(sent_by_promptfoo):]]  # fmt: skip

    assert Counter(sent_by_us) == Counter(sent_by_promptfoo)  # the same requests, file vars
    assert len(sent_by_us) == 20  # 3 prompts × 5 tests, and the large model on "chat" only
    assert ours == theirs
    assert sorted(Counter(ours.values()).items()) == [(False, 4), (True, 16)]


def test_without_npm_the_install_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(NpmMissing, match="npm is not installed"):
        install(tmp_path / "promptfoo" / "0")
    assert not (tmp_path / "promptfoo").exists() or not any((tmp_path / "promptfoo").iterdir())


# ---- every check type we grade without a model, in promptfoo ---------------------------

# question → the fake model's answer
CHECK_ANSWERS = {
    "rome": "It is Rome.",
    "xml": "<city><name>Rome</name></city>",
    "xml inside": "Here: <city><name>Rome</name></city> done",
    "sql": "SELECT name FROM cities WHERE id = 1",
    "sql block": "Try:\n```sql\nSELECT name FROM cities\n```",
    "words": "the cat sat on the mat",
}
# (question, check, the verdict both tools give) — one case each; a check and its not- form
# each meet a passing and a failing answer somewhere in the table.
CHECKS: list[tuple[str, dict[str, Any], bool]] = [
    ("rome", {"type": "equals", "value": "It is Rome."}, True),
    ("rome", {"type": "not-equals", "value": "It is Rome."}, False),
    ("rome", {"type": "contains", "value": "Paris"}, False),
    ("rome", {"type": "not-icontains", "value": "paris"}, True),
    ("rome", {"type": "starts-with", "value": "Rome"}, False),
    ("rome", {"type": "not-starts-with", "value": "Rome"}, True),
    ("rome", {"type": "regex", "value": "R.me"}, True),
    ("rome", {"type": "not-regex", "value": "R.me"}, False),
    ("rome", {"type": "is-json"}, False),
    ("rome", {"type": "not-is-json"}, True),
    ("rome", {"type": "contains-json"}, False),
    ("rome", {"type": "word-count", "value": 3}, True),
    ("rome", {"type": "word-count", "value": {"min": 4}}, False),
    ("rome", {"type": "max-length", "value": 11}, True),
    ("rome", {"type": "not-min-length", "value": 11}, False),
    ("rome", {"type": "min-length", "value": 12}, False),
    ("rome", {"type": "not-max-length", "value": 10}, True),
    ("rome", {"type": "contains-any", "value": ["Paris", "Rome"]}, True),
    ("rome", {"type": "contains-any", "value": "Paris, Madrid"}, False),
    ("rome", {"type": "not-contains-any", "value": ["Paris", "Madrid"]}, True),
    ("rome", {"type": "contains-all", "value": ["It", "Rome"]}, True),
    ("rome", {"type": "contains-all", "value": "It, Paris"}, False),
    ("rome", {"type": "not-contains-all", "value": ["It", "Rome"]}, False),
    ("rome", {"type": "icontains-any", "value": ["ROME", "x"]}, True),
    ("rome", {"type": "icontains-any", "value": ["PARIS"]}, False),
    ("rome", {"type": "icontains-all", "value": ["it IS", "rome"]}, True),
    ("rome", {"type": "icontains-all", "value": ["it", "paris"]}, False),
    ("rome", {"type": "levenshtein", "value": "It is Rome"}, True),
    ("rome", {"type": "levenshtein", "value": "It was Paris then"}, False),
    ("rome", {"type": "levenshtein", "value": "It was Rome", "threshold": 2}, False),
    ("rome", {"type": "not-levenshtein", "value": "It is Rome"}, False),
    ("words", {"type": "rouge-n", "value": "the cat sat on a mat"}, True),
    ("words", {"type": "rouge-n", "value": "the cat sat"}, False),  # an F-score, not recall
    ("words", {"type": "rouge-n", "value": "a dog ran off"}, False),
    ("words", {"type": "rouge-n", "value": "the dog sat", "threshold": 0.4}, True),
    ("words", {"type": "not-rouge-n", "value": "the dog sat"}, True),
    ("words", {"type": "bleu", "value": "the cat sat on the mat"}, True),
    ("words", {"type": "bleu", "value": "a dog lay under a rug"}, False),
    ("words", {"type": "bleu", "value": ["a dog", "the cat sat on the mat"]}, True),
    ("xml", {"type": "is-xml"}, True),
    ("xml", {"type": "is-xml", "value": "city.name"}, True),
    ("xml", {"type": "is-xml", "value": {"requiredElements": ["city.size"]}}, False),
    ("xml inside", {"type": "is-xml"}, False),
    ("xml inside", {"type": "contains-xml"}, True),
    ("xml inside", {"type": "contains-xml", "value": "city.name"}, True),
    ("rome", {"type": "contains-xml"}, False),
    ("rome", {"type": "not-contains-xml"}, True),
    ("sql", {"type": "is-sql"}, True),
    ("sql", {"type": "is-sql", "value": {"databaseType": "MySQL", "allowedTables":
                                         ["select::null::cities"]}}, True),
    ("sql", {"type": "is-sql", "value": {"allowedTables": ["select::null::towns"]}}, False),
    ("rome", {"type": "is-sql"}, False),
    ("sql block", {"type": "contains-sql"}, True),
    ("rome", {"type": "contains-sql"}, False),
    ("rome", {"type": "finish-reason", "value": "stop"}, True),
    ("rome", {"type": "finish-reason", "value": "length"}, False),
    ("rome", {"type": "not-finish-reason", "value": "length"}, True),
    ("rome", {"type": "latency", "threshold": 60000}, True),
    # The fake model gives every token a log-probability of -0.5: perplexity e^0.5 ≈ 1.65.
    ("rome", {"type": "perplexity", "threshold": 2}, True),
    ("rome", {"type": "perplexity", "threshold": 1.5}, False),
    ("rome", {"type": "perplexity-score", "threshold": 0.3}, True),
    ("rome", {"type": "perplexity-score", "threshold": 0.4}, False),
    ("rome", {"type": "contains", "value": "{{ q | capitalize }}"}, True),  # rendered
]  # fmt: skip


def test_every_check_type_graded_without_a_model_means_the_same_in_promptfoo(
    promptfoo: Path, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    fake_llm.respond(lambda model, body: Reply(text=CHECK_ANSWERS[_question(body)]))
    # A server on this machine behind a profile of kind openai that needs no key: the
    # export points promptfoo at it, keyless, as PromptStudio runs it.
    doc = PromptDocument(
        name="Checks",
        template="user:\nQuestion: {{ q }}\n",
        columns=[ColumnConfig(id="c1", profile="here", base_url=fake_llm.base_url, model="m")],
        cases=[{"vars": {"q": question}, "assert": [check]} for question, check, _ in CHECKS],
    )
    doc.profiles = [ProviderProfile("here", "openai", "Here", fake_llm.base_url, needs_key=False)]
    config, verdicts = _exported_and_run(doc, tmp_path)
    theirs = {index: passed for (index, _model), passed in verdicts.items()}

    home = tmp_path / "home"
    _add_keyless_profile(home, "here", "openai", fake_llm.base_url)
    ours = {index: passed for (index, _model), passed in
            _promptstudio_verdicts(config, home).items()}  # fmt: skip
    wanted = {index: verdict for index, (_q, _check, verdict) in enumerate(CHECKS)}
    differ = {i: (ours[i], theirs[i]) for i in wanted if ours[i] != theirs[i]}
    assert differ == {}  # type → (PromptStudio's verdict, promptfoo's)
    assert ours == wanted


def _question(body: dict[str, Any]) -> str:
    """The question a request asks: its last message after "Question: " (text or parts)."""
    content = (body.get("messages") or [{}])[-1].get("content")
    if isinstance(content, list):
        content = "".join(part.get("text", "") for part in content)
    return str(content).removeprefix("Question: ").strip()


# ---- the tool-call checks, on answers that call tools ---------------------------------

WEATHER = ToolDef(
    "get_weather",
    "The weather in a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
TIME = ToolDef("get_time", "The time in a city", {"type": "object"})
# question → the calls the fake model makes (none: it answers "It is sunny.")
TOOL_ANSWERS: dict[str, list[tuple[str, str]]] = {
    "rome": [("get_weather", '{"city": "Rome", "days": [1, 2]}')],
    "both": [("get_weather", '{"city": "Oslo"}'), ("get_time", "{}")],
    "bad": [("get_weather", '{"town": "Rome"}')],
    "chat": [],
}
TOOL_CHECKS: list[tuple[str, dict[str, Any], bool]] = [
    ("rome", {"type": "is-valid-openai-tools-call"}, True),
    ("bad", {"type": "is-valid-openai-tools-call"}, False),
    ("chat", {"type": "is-valid-openai-tools-call"}, False),
    ("rome", {"type": "tool-call-f1", "value": ["get_weather"]}, True),
    ("both", {"type": "tool-call-f1", "value": "get_weather"}, False),
    ("both", {"type": "tool-call-f1", "value": ["get_weather"], "threshold": 0.6}, True),
    ("rome", {"type": "contains-tool-call", "value": "get_weather"}, True),
    ("rome", {"type": "contains-tool-call",
              "value": {"name": "get_weather", "arguments": {"city": "Rome", "days": [2]}}}, True),
    ("rome", {"type": "contains-tool-call",
              "value": {"name": "get_weather", "arguments": {"city": "Paris"}}}, False),
    ("both", {"type": "contains-tool-call", "value": '{"name": "get_time"}'}, True),
    ("chat", {"type": "contains-tool-call", "value": "get_weather"}, False),
    ("rome", {"type": "not-contains-tool-call", "value": "get_time"}, True),
    ("both", {"type": "not-contains-tool-call", "value": "get_time"}, False),
]  # fmt: skip


def test_tool_call_checks_mean_the_same_in_promptfoo(
    promptfoo: Path, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    def answer(model: str, body: dict[str, Any]) -> Reply:
        calls = TOOL_ANSWERS[_question(body)]
        return Reply(text="" if calls else "It is sunny.", tool_calls=calls)

    fake_llm.respond(answer)
    doc = PromptDocument(
        name="Tools",
        template="user:\nQuestion: {{ q }}\n",
        columns=[
            ColumnConfig(id="c1", base_url=fake_llm.base_url, model="gpt"),
            ColumnConfig(id="c2", base_url=fake_llm.anthropic_base_url, model="claude",
                         profile="my-claude"),
        ],
        cases=[{"vars": {"q": question}, "assert": [check]} for question, check, _ in TOOL_CHECKS],
        tools=[WEATHER, TIME],
    )  # fmt: skip
    doc.profiles = [ProviderProfile("my-claude", "anthropic", "My Claude", "https://x.example")]
    config, theirs = _exported_and_run(doc, tmp_path)
    home = tmp_path / "home"
    _add_keyless_profile(home, "my-claude", "anthropic", fake_llm.anthropic_base_url)
    ours = _promptstudio_verdicts(config, home)
    differ = {key: (ours[key], theirs[key]) for key in ours if ours[key] != theirs[key]}
    # (case, model) → (PromptStudio's verdict, promptfoo's). The one difference, said in the
    # README: promptfoo's is-valid-openai-tools-call reads only OpenAI's shape of answer.
    assert differ == {(0, "claude"): (True, False)}
    wanted = {index: verdict for index, (_q, _check, verdict) in enumerate(TOOL_CHECKS)}
    assert {index: passed for (index, model), passed in ours.items() if model == "gpt"} == wanted


# ---- checks a judge model grades, and Python checks ------------------------------------

JUDGED: list[tuple[dict[str, Any], bool]] = [
    ({"type": "llm-rubric", "value": "Names the city of Rome"}, True),
    ({"type": "llm-rubric", "value": "Names the city of Paris"}, False),
    ({"type": "not-llm-rubric", "value": "Names the city of Paris"}, True),
    ({"type": "python", "value": "output.startswith('It')"}, True),
    ({"type": "python", "value": "len(output) > 20"}, False),
]


def test_rubric_and_python_checks_mean_the_same_in_promptfoo(
    promptfoo: Path, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    def answer(model: str, body: dict[str, Any]) -> Reply:
        asked = json.dumps(body["messages"])
        if "Names the city of " not in asked:  # the prompt itself, on either column
            return Reply(text="It is Rome.")
        # Both tools put the rubric and the answer into their judge's prompt.
        passed = asked.split("Names the city of ")[1].startswith("Rome")
        return Reply(text=json.dumps({"reason": "As asked.", "score": int(passed),
                                      "pass": passed}))  # fmt: skip

    fake_llm.respond(answer)
    doc = PromptDocument(
        name="Judged",
        template="user:\nWhere is the Colosseum?\n",
        columns=[ColumnConfig(id="c1", base_url=fake_llm.base_url, model="m"),
                 ColumnConfig(id="j", base_url=fake_llm.base_url, model="judge")],
        cases=[{"vars": {}, "assert": [check]} for check, _ in JUDGED],
    )  # fmt: skip
    doc.judge_column = "j"  # promptfoo's defaultTest.options.provider
    config, theirs = _exported_and_run(doc, tmp_path)
    home = tmp_path / "home"
    ours = _promptstudio_verdicts(config, home, "--judge", "judge", "--allow-code-checks")
    assert {key: verdict for key, verdict in ours.items() if key[1] == "m"} == {
        (index, "m"): verdict for index, (_check, verdict) in enumerate(JUDGED)
    }
    assert ours == theirs  # the judge's own column too: each tool grades it the same
