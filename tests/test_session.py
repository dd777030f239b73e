"""The session model: what is being edited, where it came from, and who hears of changes."""

from __future__ import annotations

from typing import Any

from promptstudio.events import Change
from promptstudio.providers import GenerationParams
from promptstudio.runs.columns import ColumnConfig
from promptstudio.session import Content, Session, Source


def _heard(session: Session) -> list[Change[Any]]:
    heard: list[Change[Any]] = []
    events = session.events
    for emitter in (events.template, events.values, events.columns, events.cases,
                    events.source, events.dirty):  # fmt: skip
        emitter.connect(heard.append)
    return heard


def test_each_field_announces_what_changed_and_nothing_else() -> None:
    session = Session()
    heard = _heard(session)
    session.template = "user:\n{{ topic }}"
    session.values = {"topic": "owls"}
    session.values = {"topic": "owls"}  # the same again: nothing to say
    column = ColumnConfig(model="m", id="c1")
    session.columns = [column]
    session.columns = [ColumnConfig(model="m", id="c1")]  # equal as stored: nothing
    session.cases = [{"vars": {"topic": "cats"}}]
    assert [(c.field, c.value, c.old) for c in heard] == [
        ("template", "user:\n{{ topic }}", ""),
        ("values", {"topic": "owls"}, {}),
        ("columns", (column,), ()),
        ("cases", ({"vars": {"topic": "cats"}},), ()),
    ]
    assert session.names == ["topic"] and session.column("c1") is column
    assert session.content() == Content("user:\n{{ topic }}", {"topic": "owls"}, (column,))


def test_dirty_is_relative_to_the_version_it_came_from() -> None:
    session = Session()
    session.template = "before"
    assert not session.dirty  # no prompt: never dirty
    heard = _heard(session)
    session.open(Source(prompt_id=7))
    session.show(Content("v1 text", {"a": 1}, (ColumnConfig(model="m", id="c"),)))
    session.mark_clean(source=Source(7, version_id=70, version_number=1))
    assert session.source == Source(7, 70, 1) and session.prompt_id == 7
    assert not session.dirty
    session.template = "edited"
    assert session.dirty
    session.template = "v1 text"  # typed back: clean again
    assert not session.dirty
    session.columns = [ColumnConfig(model="m", id="c", params=GenerationParams(temperature=0.5))]
    assert session.dirty
    session.cases = [{"vars": {"a": 2}}]  # cases belong to the prompt, not to a version
    dirty = [c.value for c in heard if c.field == "dirty"]
    assert dirty == [True, False, True]
    saved = session.content()
    session.mark_clean(saved, Source(7, 71, 2))
    assert not session.dirty and session.baseline == saved


def test_show_refreshes_every_field_even_when_unchanged() -> None:
    """Views show a replaced content anew (undo history, answers): old == value says so."""
    session = Session()
    columns = (ColumnConfig(model="m", id="c"),)
    session.columns = columns
    heard = _heard(session)
    session.show(Content("", {}, ()))  # no columns: keep the current ones, shown anew
    assert [(c.field, c.value, c.old) for c in heard] == [
        ("template", "", ""),
        ("values", {}, {}),
        ("columns", columns, columns),
    ]


def test_opening_another_prompt_forgets_the_old_baseline() -> None:
    session = Session()
    session.open(Source(1))
    session.show(Content("one"))
    session.mark_clean()
    session.open(Source(2))  # its content is on the way: not "edited" meanwhile
    assert session.baseline is None and not session.dirty


def test_values_read_after_opening_become_the_baseline_if_nothing_else_changed() -> None:
    """A long template's names arrive after it opened: its values are what it opened with."""
    session = Session()
    session.open(Source(1))
    session.show(Content("{{ a }}", {}))
    session.mark_clean()
    session.values = {"a": "x"}
    assert session.dirty
    assert session.rebase_values()
    assert not session.dirty
    session.template = "{{ a }} edited"
    session.values = {"a": "y"}
    assert not session.rebase_values()  # the text changed too: a real edit
    assert session.dirty


def test_content_as_stored() -> None:
    settings = {"columns": [{"id": "c", "model": "m", "base_url": "http://h/v1"}]}
    content = Content.stored("t", {"a": 1}, settings)
    assert content.columns[0].model == "m" and content.columns[0].id == "c"
    template, values, stored = content.key()
    assert (template, values) == ("t", {"a": 1})
    assert stored["columns"][0]["base_url"] == "http://h/v1"
    assert Content.stored("t", {"a": 1}, stored) == content
    assert Content.stored("t", {"a": 1}, {}).columns == ()


def test_an_edit_costly_to_read_is_read_when_asked_for() -> None:
    """A megabyte in an editor is not read at every key: the session reads it on demand."""
    session = Session()
    heard = _heard(session)
    reads: list[str] = []

    def read() -> str:
        reads.append("read")
        return "typed text"

    session.template_edited(read)
    session.template_edited(read)  # two keys, one read
    assert heard == [] and reads == []
    assert session.template == "typed text"
    assert session.template == "typed text"
    assert reads == ["read"]
    assert [(c.field, c.value) for c in heard] == [("template", "typed text")]
    session.template_edited(read)
    session.template = "set directly"  # replaced: the unread edit is gone
    session.settle()
    assert session.template == "set directly" and reads == ["read"]
