"""The sample library installed on first launch."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest

from promptstudio.exchange import PromptDocument, to_prompty
from promptstudio.samples import install_samples, load_samples
from promptstudio.storage import Database, library
from promptstudio.templating import render_messages

ROLE_MARKERS = {"system:", "user:", "assistant:"}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "library.sqlite3") as database:
        yield database


def test_installs_four_samples_once(db: Database) -> None:
    assert db.call(install_samples) == 4
    assert db.call(install_samples) == 0
    prompts = db.call(library.list_prompts)
    assert len(prompts) == 4
    assert {p.folder for p in prompts} == {"Samples"}
    for prompt in prompts:
        versions = db.call(library.list_versions, prompt.id)
        assert [v.kind for v in versions] == ["sample"]
        assert versions[0].template.strip()
        assert versions[0].variables
        assert versions[0].message


def test_not_installed_into_a_library_that_has_prompts(db: Database) -> None:
    db.call(library.create_prompt, "mine")
    assert db.call(install_samples) == 0
    assert db.call(library.count_prompts) == 1


def test_not_reinstalled_after_the_user_trashed_them(db: Database) -> None:
    db.call(install_samples)
    for prompt in db.call(library.list_prompts):
        db.call(library.trash_prompt, prompt.id)
    assert db.call(install_samples) == 0
    assert db.call(library.list_prompts) == []


def test_each_template_parses_and_renders_with_exact_role_markers() -> None:
    samples = load_samples()
    assert len(samples) == 4
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    for sample in samples:
        env.parse(sample.template)
        lines = env.from_string(sample.template).render(**sample.variables).splitlines()
        assert lines[0] == "system:", sample.name
        assert "user:" in lines, sample.name
        for line in lines:
            if line.strip() in ROLE_MARKERS:
                assert line in ROLE_MARKERS, f"{sample.name}: marker {line!r} is not exact"


def test_few_shot_sample_has_three_examples() -> None:
    (few_shot,) = [s for s in load_samples() if "{% for ex in examples %}" in s.template]
    examples = few_shot.variables["examples"]
    assert len(examples) == 3
    assert all(set(ex) == {"text", "label"} for ex in examples)
    rendered = jinja2.Environment().from_string(few_shot.template).render(**few_shot.variables)
    assert rendered.splitlines().count("assistant:") == 3
    assert rendered.splitlines().count("user:") == 4


def test_every_variable_in_a_template_has_an_example_value() -> None:
    from jinja2 import meta

    env = jinja2.Environment()
    for sample in load_samples():
        needed = meta.find_undeclared_variables(env.parse(sample.template))
        assert needed == set(sample.variables), sample.name


# The few-shot sample before issue 14 wrote role markers on the same line as its tags
# (hard to read; the real ``prompty`` refuses such a file in strict mode). Every sample
# must still give exactly the messages its old text gave.
OLD_TEMPLATES = {
    "Intent classifier: few-shot": (
        "system:\n"
        "You sort incoming customer messages for a support team. Reply with exactly one of "
        "these\nlabels and nothing else:\n"
        "billing, bug_report, feature_request, account_access, other\n\n"
        "If a message fits more than one label, choose the one the customer most needs "
        "handled.\n"
        "{% for ex in examples %}user:\n{{ ex.text }}\nassistant:\n{{ ex.label }}\n"
        "{% endfor %}user:\n{{ text }}\n"
    ),
}


def _messages(template: str, variables: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in render_messages(template, variables)]


def test_every_sample_renders_as_its_old_text_did() -> None:
    samples = {sample.name: sample for sample in load_samples()}
    assert set(OLD_TEMPLATES) <= set(samples)
    for name, sample in samples.items():
        old = OLD_TEMPLATES.get(name, sample.template)
        assert _messages(sample.template, sample.variables) == _messages(old, sample.variables), (
            name
        )


def test_no_sample_writes_a_role_marker_on_a_tag_line() -> None:
    for sample in load_samples():
        for line in sample.template.splitlines():
            if "{%" in line or "{#" in line:
                assert not re.search(r"(system|user|assistant):\s*$", line), (sample.name, line)


def test_every_sample_exported_as_prompty_passes_the_real_prompty_in_strict_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import prompty  # a dev dependency: the reference implementation, never skipped

    monkeypatch.setenv("OPENAI_API_KEY", "placeholder-for-load")  # Prompty resolves ${env:}
    for number, sample in enumerate(load_samples()):
        doc = PromptDocument(name=sample.name, template=sample.template,
                             variables=sample.variables)  # fmt: skip
        path = tmp_path / f"sample{number}.prompty"
        path.write_text(to_prompty(doc), encoding="utf-8")
        agent = prompty.load(str(path))
        prepared = prompty.prepare(agent, inputs=sample.variables)  # strict by default
        theirs = [(m.role, "".join(part.value for part in m.parts)) for m in prepared]
        assert theirs == _messages(sample.template, sample.variables), sample.name
