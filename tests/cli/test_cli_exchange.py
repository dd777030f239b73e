"""``export``, ``import`` and multi-model ``run`` through the installed entry point."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import yaml

from promptstudio.exchange import PromptDocument, from_prompty, to_json, to_prompty
from tests.cli.test_cli import cli
from tests.exchange.samples import columns, sample_document
from tests.fake_llm import FakeLLM, Reply


def _prompts(home: Path) -> list[tuple[str, str]]:
    db = sqlite3.connect(home / "library.sqlite3")
    try:
        return db.execute("SELECT name, folder FROM prompts ORDER BY id").fetchall()
    finally:
        db.close()


def test_import_then_export_keeps_everything(tmp_path: Path) -> None:
    home = tmp_path / "home"
    doc = sample_document()
    doc.tags.sort()  # the library keeps tags sorted
    source = tmp_path / "summariser.json"
    source.write_text(to_json(doc), encoding="utf-8")

    done = cli("import", str(source), "--json", home=home)
    assert done.returncode == 0, done.stderr
    [entry] = json.loads(done.stdout)
    assert (entry["stored_as"], entry["folder"], entry["created"]) == (
        "Summariser",
        "work/summaries",
        True,
    )

    done = cli("export", "Summariser", "--format", "json", home=home)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(to_json(doc))

    out = tmp_path / "out.prompty"
    done = cli("export", "Summariser", "-o", str(out), home=home)
    assert done.returncode == 0, done.stderr
    # JSON keeps keys sorted, so compare content, not the order of keys.
    assert from_prompty(out.read_text(encoding="utf-8")) == from_prompty(to_prompty(doc))


def test_update_adds_a_version_instead_of_a_copy(tmp_path: Path) -> None:
    home = tmp_path / "home"
    source = tmp_path / "greeting.prompty"
    source.write_text(to_prompty(PromptDocument(name="Greeting", template="user:\nhi")))
    assert cli("import", str(source), home=home).returncode == 0
    assert cli("import", str(source), home=home).returncode == 0  # a second prompt
    assert _prompts(home) == [("Greeting", ""), ("Greeting (2)", "")]

    source.write_text(to_prompty(PromptDocument(name="Greeting", template="user:\nhello")))
    done = cli("import", str(source), "--update", home=home)
    assert done.returncode == 0, done.stderr
    assert "new version v2" in done.stdout
    assert len(_prompts(home)) == 2
    done = cli("export", "Greeting", "-f", "template", home=home)
    assert done.stdout == "user:\nhello"
    done = cli("export", "Greeting", "-f", "template", "--version", "1", home=home)
    assert done.stdout == "user:\nhi"


def test_update_with_nothing_new_says_unchanged_and_makes_no_version(tmp_path: Path) -> None:
    home = tmp_path / "home"
    doc = sample_document()
    source = tmp_path / "summariser.json"
    source.write_text(to_json(doc), encoding="utf-8")
    assert cli("import", str(source), home=home).returncode == 0
    exported = tmp_path / "again.json"
    assert cli("export", "Summariser", "-o", str(exported), home=home).returncode == 0
    ids = sqlite3.connect(home / "library.sqlite3").execute("SELECT id FROM test_cases").fetchall()

    done = cli("import", str(exported), "--update", home=home)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("(unchanged: v1 already holds it)")
    assert "new version" not in done.stdout
    done = cli("history", "Summariser", "--json", home=home)
    assert len(json.loads(done.stdout)["versions"]) == 1
    db = sqlite3.connect(home / "library.sqlite3")
    assert db.execute("SELECT id FROM test_cases").fetchall() == ids  # the same cases, kept

    doc.cases = doc.cases[:1]
    source.write_text(to_json(doc), encoding="utf-8")
    done = cli("import", str(source), "--update", "--json", home=home)
    [entry] = json.loads(done.stdout)
    assert (entry["version"], entry["changed"]) == (1, ["cases"])
    done = cli("import", str(source), "--update", home=home)
    assert "(unchanged: v1 already holds it)" in done.stdout


def test_a_promptfoo_export_imported_again_with_update_is_unchanged(tmp_path: Path) -> None:
    home = tmp_path / "home"
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(
        "description: Cities\nprompts: [{label: Cities, raw: 'Where is {{ city }}?'}]\n"
        "providers: [{id: 'openai:chat:m', config: {apiBaseUrl: 'http://127.0.0.1:9/v1', "
        "apiKey: no-key}}]\ntests:\n  - vars: {city: Rome}\n    metadata: {expected: Italy}\n"
        "  - vars: {city: Oslo}\n    assert: [{type: perplexity, threshold: 3}, "
        "{type: contains-tool-call, value: get_weather}, {type: max-length, value: 50}]\n",
        encoding="utf-8",
    )
    assert cli("import", str(config), home=home).returncode == 0
    exported = tmp_path / "again.yaml"
    done = cli("export", "Cities", "-f", "promptfoo", "-o", str(exported), home=home)
    assert done.returncode == 0, done.stderr
    done = cli("import", str(exported), "--update", home=home)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("Cities (unchanged: v1 already holds it)")


def test_update_with_an_export_holding_the_history_adds_no_version_again(tmp_path: Path) -> None:
    home = tmp_path / "home"
    source = tmp_path / "greeting.json"
    for template in ("user:\nhi", "user:\nhello", "user:\nhey"):
        source.write_text(to_json(PromptDocument(name="Greeting", template=template)))
        assert cli("import", str(source), "--update", home=home).returncode == 0
    history = tmp_path / "history.json"
    assert cli("export", "Greeting", "--history", "-o", str(history), home=home).returncode == 0

    done = cli("import", str(history), "--update", home=home)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("(unchanged: v3 already holds it)"), done.stdout
    versions = json.loads(cli("history", "Greeting", "--json", home=home).stdout)["versions"]
    assert len(versions) == 3


def test_a_bad_file_means_nothing_is_imported(tmp_path: Path) -> None:
    home = tmp_path / "home"
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.prompty").write_text("---\nname: A\n---\nuser:\nok\n")
    (folder / "b.prompty").write_text("---\nname: [unclosed\n---\nuser:\nx\n")
    (folder / "c.txt").write_bytes(b"caf\xe9\n")
    done = cli("import", str(folder), home=home)
    assert done.returncode == 1
    assert "b.prompty" in done.stderr and "line 2" in done.stderr
    assert "c.txt" in done.stderr and "UTF-8" in done.stderr
    assert "nothing was imported" in done.stderr
    assert not (home / "library.sqlite3").exists() or _prompts(home) == []


def test_the_library_goes_to_a_folder_and_comes_back(tmp_path: Path) -> None:
    home = tmp_path / "home"
    sources = tmp_path / "sources"
    (sources / "Team/Support").mkdir(parents=True)
    (sources / "Team/Support/triage.txt").write_text("user:\nTriage {{ ticket }}\n")
    (sources / "notes.md").write_text("Just a template about {{ topic }}\n")
    (sources / "odd: name?.j2").write_text("user:\nodd\n")
    (sources / ".hidden.txt").write_text("never read\n")
    done = cli("import", str(sources), "--folder", "Imported", home=home)
    assert done.returncode == 0, done.stderr
    assert sorted(_prompts(home)) == [
        ("notes", "Imported"),
        ("odd: name?", "Imported"),
        ("triage", "Imported/Team/Support"),
    ]

    out = tmp_path / "git"
    done = cli("export", "--all", "-o", str(out), home=home)
    assert done.returncode == 0, done.stderr
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == [
        "Imported/Team/Support/triage.prompty",
        "Imported/notes.prompty",
        "Imported/odd- name-.prompty",
    ]
    before = {f: (out / f).read_bytes() for f in files}
    assert cli("export", "--all", "-o", str(out), home=home).returncode == 0
    assert {f: (out / f).read_bytes() for f in files} == before  # stable, for git

    fresh = tmp_path / "fresh"
    done = cli("import", str(out), home=fresh)
    assert done.returncode == 0, done.stderr
    assert sorted(_prompts(fresh)) == sorted(_prompts(home))


def test_code_export_renders_with_values_and_no_key(tmp_path: Path) -> None:
    home = tmp_path / "home"
    source = tmp_path / "s.json"
    source.write_text(to_json(sample_document()))
    assert cli("import", str(source), home=home).returncode == 0
    done = cli("export", "Summariser", "-f", "python-anthropic", "--column", "2",
               "--var", "name=Grace", home=home)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Grace" in done.stdout and "claude-3-5-haiku-latest" in done.stdout
    assert "os.environ" in done.stdout
    done = cli("export", "Summariser", "-f", "curl", "--column", "9", home=home)
    assert done.returncode == 1 and "column 9" in done.stderr
    done = cli("export", "Nobody", home=home)
    assert done.returncode == 1 and "Nobody" in done.stderr


def test_promptfoo_export_lists_every_column(tmp_path: Path) -> None:
    home = tmp_path / "home"
    source = tmp_path / "s.json"
    source.write_text(to_json(sample_document()))
    assert cli("import", str(source), home=home).returncode == 0
    out = tmp_path / "promptfooconfig.yaml"
    assert cli("export", "Summariser", "-o", str(out), home=home).returncode == 0
    config = yaml.safe_load(out.read_text())
    assert len(config["providers"]) == 4


def test_run_on_several_models_side_by_side(tmp_path: Path) -> None:
    home = tmp_path / "home"
    template = tmp_path / "ask.txt"
    template.write_text("user:\nWhat is {{ x }}?\n")
    with FakeLLM() as server:
        server.script(Reply(text="Answer from A."), model="model-a")
        server.script(Reply(text="Answer from B."), model="model-b")
        done = cli("run", str(template), "--var", "x=2", "--base-url", server.base_url,
                   "--model", "model-a", "--model", "model-b", "--temperature", "0.1",
                   home=home)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert f"=== model-a @ {server.base_url} ===\nAnswer from A.\n" in done.stdout
        assert f"=== model-b @ {server.base_url} ===\nAnswer from B.\n" in done.stdout
        bodies = {r.json["model"]: r.json for r in server.chat_requests()}
        assert set(bodies) == {"model-a", "model-b"}
        assert all(b["temperature"] == 0.1 for b in bodies.values())
        assert bodies["model-a"]["messages"] == [{"role": "user", "content": "What is 2?"}]

        server.script(Reply(status=500, error_message="B is down"), model="model-b")
        done = cli("run", str(template), "--var", "x=3", "--json", "--base-url",
                   server.base_url, "--model", "model-a", "--model", "model-b",
                   home=home)  # fmt: skip
    assert done.returncode == 1
    summary = json.loads(done.stdout)
    assert [a["status"] for a in summary["answers"]] == ["done", "failed"]
    assert "B is down" in done.stderr
    db = sqlite3.connect(home / "library.sqlite3")
    stored = db.execute("SELECT model, status FROM responses ORDER BY id").fetchall()
    db.close()
    assert stored == [
        ("model-a", "done"),
        ("model-b", "done"),
        ("model-a", "done"),
        ("model-b", "failed"),
    ]


def test_run_a_prompty_file_on_its_own_columns(tmp_path: Path) -> None:
    with FakeLLM() as server:
        server.script(Reply(text="Bonjour."))
        doc = PromptDocument(
            name="Greeter",
            template="system:\nBe {{ tone }}.\nuser:\nSay hi.\n",
            variables={"tone": "brief"},
            columns=columns({"id": "c1", "profile": "", "base_url": server.base_url,
                             "model": "local", "params": {"max_tokens": 20}}),
        )  # fmt: skip
        path = tmp_path / "greeter.prompty"
        path.write_text(to_prompty(doc))
        done = cli("run", str(path), "--var", "tone=warm", home=tmp_path / "home")
        assert done.returncode == 0, done.stderr
        assert done.stdout == "Bonjour.\n"
        body = server.chat_requests()[-1].json
    assert body["model"] == "local" and body["max_tokens"] == 20
    assert body["messages"][0] == {"role": "system", "content": "Be warm."}
    done = cli("render", str(path), home=tmp_path / "home")
    assert json.loads(done.stdout)["messages"][0]["content"] == "Be brief."
    done = cli("run", str(tmp_path / "greeter.prompty"), "--model", "x", home=tmp_path)
    assert done.returncode == 2 and "--base-url" in done.stderr


def test_a_promptfoo_config_comes_in_with_its_tests_as_cases(tmp_path: Path) -> None:
    home = tmp_path / "home"
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(
        "description: Greetings\n"
        "prompts:\n  - 'Say hello to {{ who }}'\n"
        "providers:\n  - openai:chat:gpt-4o-mini\n  - id: ollama:chat:llama3.2\n"
        "    config: {temperature: 0.3, num_predict: 64}\n"
        "tests:\n  - vars: {who: Ada}\n  - vars: {who: Grace}\n"
        "    assert: [{type: icontains, value: grace}]\n"
    )
    done = cli("import", str(config), "--json", home=home)
    assert done.returncode == 0, done.stderr
    [entry] = json.loads(done.stdout)
    assert (entry["stored_as"], entry["cases"], entry["columns"]) == ("Greetings", 2, 2)
    done = cli("export", "Greetings", "-f", "json", home=home)
    doc = json.loads(done.stdout)
    assert [c["vars"] for c in doc["cases"]] == [{"who": "Ada"}, {"who": "Grace"}]
    assert doc["cases"][1]["assert"] == [{"type": "icontains", "value": "grace"}]
    assert doc["columns"][1]["params"] == {"temperature": 0.3, "max_tokens": 64}
    assert doc["variables"] == {"who": "Ada"}


def test_eval_csv_quotes_formulas_in_answers_and_variables(tmp_path: Path) -> None:
    template = tmp_path / "ask.prompt"
    template.write_text("user:\nWhat is {{ x }}?\n", encoding="utf-8")
    cases = tmp_path / "cases.csv"
    cases.write_text("x,__expected\n'@SUM(A1),-3\n", encoding="utf-8")
    evil = '=HYPERLINK("http://evil.example","click")'
    with FakeLLM() as server:
        server.script(Reply(text=evil))
        done = cli("eval", str(template), "--cases", str(cases), "--base-url",
                   server.base_url, "--model", "m", "--csv", home=tmp_path / "home")  # fmt: skip
        [request] = server.chat_requests()
    assert request.json["messages"] == [{"role": "user", "content": "What is @SUM(A1)?"}]
    rows = list(csv.DictReader(io.StringIO(done.stdout, newline="")))
    assert [(row["x"], row["expected"], row["answer"]) for row in rows] == [
        ("'@SUM(A1)", "-3", "'" + evil)
    ]


def _leaky_config(tmp_path: Path, server: FakeLLM, prompt: str) -> Path:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "id_fake").write_text("SECRET-KEY-MATERIAL\n", encoding="utf-8")
    folder = tmp_path / "cfg"
    (folder / "prompts").mkdir(parents=True)
    (folder / "prompts" / "ok.txt").write_text("user:\nNested {{ x }}\n", encoding="utf-8")
    (folder / "link.txt").symlink_to(tmp_path / "id_fake")
    config = folder / "promptfooconfig.yaml"
    config.write_text(
        f"description: Leaky\nprompts: ['{prompt}']\n"
        f"providers:\n  - id: openai:chat:m\n    config: {{apiBaseUrl: '{server.base_url}'}}\n"
        "tests: [{vars: {x: '1'}}]\n",
        encoding="utf-8",
    )
    return config


def test_import_and_run_refuse_references_leading_out_of_the_config_folder(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    with FakeLLM() as server:
        server.script(Reply(text="ok"))
        for number, reference in enumerate(
            ("file://../id_fake", f"file://{tmp_path / 'c1' / 'id_fake'}", "file://link.txt")
        ):
            config = _leaky_config(tmp_path / f"c{number}", server, reference)
            done = cli("import", str(config), home=home)
            assert done.returncode == 1
            assert reference in done.stderr and "outside its folder" in done.stderr
            assert "SECRET" not in done.stderr + done.stdout
            for command in ("run", "eval"):
                done = cli(command, str(config), home=home)
                assert done.returncode != 0
                assert reference in done.stderr and "Traceback" not in done.stderr
        assert server.requests == []  # nothing was sent
        assert not (home / "library.sqlite3").exists() or _prompts(home) == []

        config = _leaky_config(tmp_path / "good", server, "file://prompts/ok.txt")
        done = cli("run", str(config), home=home)
        assert done.returncode == 0, done.stderr
        [request] = server.chat_requests()
    assert request.json["messages"] == [{"role": "user", "content": "Nested 1"}]


def test_import_reads_outside_only_when_allowed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with FakeLLM() as server:
        config = _leaky_config(tmp_path, server, "file://../id_fake")
    done = cli("import", str(config), "--allow-outside-refs", "--json", home=home)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["stored_as"] == "id_fake"
    done = cli("export", "id_fake", "-f", "template", home=home)
    assert done.stdout == "SECRET-KEY-MATERIAL\n"


def test_import_lists_what_a_prompty_file_held_that_is_not_kept(tmp_path: Path) -> None:
    source = Path(__file__).parents[1] / "exchange" / "prompty_corpus" / "structured.prompty"
    path = tmp_path / "structured.prompty"
    path.write_bytes(source.read_bytes())
    done = cli("import", str(path), "--dry-run", home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert "  note: metadata not kept: authors, version.\n" in done.stdout
    done = cli("import", str(path), "--json", home=tmp_path / "home")
    [entry] = json.loads(done.stdout)
    assert len(entry["notes"]) == 2 and entry["stored_as"] == "Extract a contact"
    done = cli("render", str(path), home=tmp_path / "home")
    assert "structured.prompty: metadata not kept" in done.stderr  # a run says it too


def test_promptfoo_import_lists_what_it_cannot_use_and_render_errors_name_the_prompt_file(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    folder = tmp_path / "pf"
    folder.mkdir()
    (folder / "prompt.json").write_text(
        '[\n  {"role": "system", "content": "Be brief."},\n'
        '  {"role": "user", "content": "About {{ topic | nosuch }}"}\n]\n',
        encoding="utf-8",
    )
    config = folder / "promptfooconfig.yaml"
    config.write_text(
        "description: Topics\nprompts: [file://prompt.json]\ntests:\n"
        "  - vars: {topic: cats}\n    assert: [{type: classifier, value: cats}]\n"
        "    options: {transform: output.toUpperCase()}\n",
        encoding="utf-8",
    )
    done = cli("import", str(config), home=home)
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stdout.splitlines() if line.startswith("  note: ")]
    assert len(notes) == 2
    assert "options.transform of test 1 is left out" in notes[0]
    assert "not graded in PromptStudio (promptfoo grades them): 'classifier' in test 1" in notes[1]

    done = cli("render", str(config), home=home)
    assert done.returncode == 1
    assert done.stderr.endswith("\npromptstudio: prompt.json:3: No filter named 'nosuch'.\n")
    assert "options.transform of test 1 is left out" in done.stderr  # the notes come first


def test_eval_of_a_config_names_the_prompt_files_line_where_a_case_does_not_render(
    tmp_path: Path, fake_llm: FakeLLM
) -> None:
    (tmp_path / "prompt.json").write_text(
        '[\n  {"role": "system", "content": "Be brief."},\n'
        '  {"role": "user", "content": "About\\n{{ topic | nosuch }}"}\n]\n',
        encoding="utf-8",
    )
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(
        "prompts: [file://prompt.json]\n"
        f"providers: [{{id: 'openai:chat:m', config: {{apiBaseUrl: '{fake_llm.base_url}', "
        "apiKey: no-key}}]\ntests: [{vars: {topic: cats}}]\n",
        encoding="utf-8",
    )
    done = cli("eval", str(config), home=tmp_path / "home")
    assert done.returncode == 1
    assert "does not render for this case (prompt.json:3): No filter named 'nosuch'." in done.stdout
    assert fake_llm.generation_requests() == []


def test_promptfoo_export_of_a_column_on_a_custom_anthropic_profile(tmp_path: Path) -> None:
    from promptstudio.runs.columns import ColumnConfig

    home = tmp_path / "home"
    added = cli("providers", "add", "my-claude", "--name", "Claude via proxy", "--kind",
                "anthropic", "--base-url", "https://proxy.example.com", home=home)  # fmt: skip
    assert added.returncode == 0, added.stderr
    column = ColumnConfig(profile="my-claude", base_url="https://proxy.example.com", model="c")
    source = tmp_path / "p.json"
    source.write_text(to_json(PromptDocument(name="P", template="user:\nhi", columns=[column])))
    assert cli("import", str(source), home=home).returncode == 0

    done = cli("export", "P", "-f", "promptfoo", home=home)
    assert done.returncode == 0, done.stderr
    [provider] = yaml.safe_load(done.stdout)["providers"]
    assert provider["id"] == "anthropic:messages:c"
    assert provider["config"] == {"apiBaseUrl": "https://proxy.example.com"}
