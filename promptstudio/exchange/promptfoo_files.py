"""Reading a promptfoo config: its YAML, and the files it refers to (``file://``).

Only files inside the config's folder are read unless the user allows others; a prompt
read from a file keeps where its lines lie there (:class:`PromptText`), so a render error
names that file's line. Part of :mod:`promptstudio.exchange.promptfoo_import`.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from promptstudio.exchange.document import TemplateOrigin
from promptstudio.exchange.errors import ExchangeError, OutsideReferenceError
from promptstudio.exchange.front_matter import BAD_ESCAPE
from promptstudio.exchange.reading import checked_text, read_referenced
from promptstudio.templating.roles import marker_role

_CODE_FILE = re.compile(r"\.(py|js|ts|mjs|cjs)(:[\w.]+)?$", re.IGNORECASE)
_MEDIA_FILE = re.compile(
    r"\.(pdf|png|jpe?g|gif|webp|bmp|tiff?|ico|avif|heic|svg|mp[34]|wav|ogg|flac|m4a|webm|mov)$",
    re.IGNORECASE,
)
_MAX_VALUES = 1_000_000


def scalar_text(value: object, what: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ExchangeError(f"{what} must be text.")


# A message's content in a JSON or YAML chat list: its key, and a YAML block scalar's "|".
_CONTENT_KEY = re.compile(r"""(?:^|[{,\s])["']?content["']?\s*:\s*([|>][-+0-9]*\s*$)?""", re.M)


@dataclass(frozen=True, slots=True)
class PromptText:
    """A prompt read from a file: the text or parsed chat list, and where it lies there."""

    value: object
    file: str
    first_line: int
    text: str  # the file's text, to find each message in ("" when not needed)

    def origin(self, template: str) -> TemplateOrigin:
        count = template.count("\n") + 1
        if isinstance(self.value, str) and template == self.value:
            lines = range(self.first_line, self.first_line + count)
            return TemplateOrigin(self.file, tuple(lines))
        # A chat list: each template line lies on its message's content line (a JSON string
        # is one line; a YAML block scalar starts on the next).
        starts = [
            (self.text.count("\n", 0, found.start()) + 1 + (1 if found[1] else 0), bool(found[1]))
            for found in _CONTENT_KEY.finditer(self.text)
        ]
        lines_of = []
        for message, offset in _template_lines(template):
            line, block = starts[message] if message < len(starts) else (1, False)
            lines_of.append(line + (offset if block and offset is not None else 0))
        return TemplateOrigin(self.file, tuple(lines_of[:count]), columns=False)


def _template_lines(template: str) -> list[tuple[int, int | None]]:
    """For each line of a template :func:`_from_messages` wrote: its message's index, and
    the line within that message's content (None for the role line and blank lines)."""
    found: list[tuple[int, int | None]] = []
    message, offset = -1, None
    for line in template.split("\n"):
        if marker_role(line) is not None:
            message, offset = message + 1, None
            found.append((max(message, 0), None))
        else:
            offset = 0 if offset is None else offset + 1
            found.append((max(message, 0), offset))
    return found


class ReferencedFiles:
    """Files a config refers to, read relative to the config's folder when it is known.

    Only files inside that folder are read (after resolving ``..`` and symbolic links),
    unless ``allow_outside``; a reference leading out is noted, stands for nothing (no
    prompt, no tests, no vars) and :meth:`refuse_outside` then refuses the whole config.
    """

    def __init__(self, base_dir: Path | None, allow_outside: bool = False) -> None:
        self.base_dir = base_dir
        self.allow_outside = allow_outside
        self.outside: list[str] = []

    def refuse_outside(self) -> None:
        """:class:`OutsideReferenceError` naming every reference that led out, if any."""
        if not self.outside:
            return
        references = tuple(dict.fromkeys(self.outside))
        raise OutsideReferenceError(
            f"The config refers to {_files(len(references))} outside its folder "
            f"({self.base_dir}), which {'is' if len(references) == 1 else 'are'} not read: "
            f"{', '.join(references)}. Copy {'it' if len(references) == 1 else 'them'} into "
            "the config's folder, or import it with 'promptstudio import --allow-outside-refs' "
            "if you trust it.",
            references,
        )

    def prompt_texts(self, reference: str, what: str) -> list[PromptText]:
        """The prompts in a file: text, or a parsed chat list (``.json``, ``.yaml``)."""
        read = self._read(reference, what)
        if read is None:
            return []
        path, text = read
        name = reference.removeprefix("file://")
        suffix = path.suffix.lower()
        if suffix in (".yaml", ".yml"):
            return [PromptText(load_yaml(text, what, reference=reference), name, 1, text)]
        if suffix == ".txt":  # promptfoo splits at "---" lines and trims each prompt
            prompts: list[PromptText] = []
            lines: list[str] = []
            start = 1
            all_lines = text.replace("\r\n", "\n").split("\n")
            for number, line in enumerate([*all_lines, "---"], start=1):
                if line.strip() == "---":
                    if "\n".join(lines).strip():
                        first = start + next(i for i, kept in enumerate(lines) if kept.strip())
                        prompts.append(PromptText("\n".join(lines).strip(), name, first, ""))
                    lines, start = [], number + 1
                else:
                    lines.append(line)
            return prompts
        if suffix in (".csv", ".jsonl"):
            raise ExchangeError(f"{what}: {suffix} prompt files ({reference}) are not supported.")
        # .json is parsed as a chat list by _template; .md, .j2, ...: as is
        return [PromptText(text, name, 1, text)]

    def var_value(self, reference: str, what: str) -> object:
        """A ``file://`` variable's value as promptfoo gives it: a text file's content
        trimmed, a YAML file's data as compact JSON text (the reference itself when the
        file lies outside the config's folder)."""
        if _MEDIA_FILE.search(reference):
            raise ExchangeError(
                f"{what} is read from {reference}, which promptfoo sends as a PDF, image, audio "
                "or video: only text variables can be imported."
            )
        read = self._read(reference, what)
        if read is None:
            return reference
        path, text = read
        if path.suffix.lower() in (".yaml", ".yml"):
            data = load_yaml(text, what, reference=reference)
            return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return text.strip()

    def data(self, reference: str, what: str, *, unread: object) -> object:
        """The parsed content of a ``.yaml``, ``.yml`` or ``.json`` file (``unread`` when it
        lies outside the config's folder)."""
        read = self._read(reference, what)
        if read is None:
            return unread
        path, text = read
        suffix = path.suffix.lower()
        if suffix in (".yaml", ".yml"):
            return load_yaml(text, what, reference=reference)
        if suffix == ".json":
            return self._json(text, what, reference)
        if suffix in (".jsonl", ".ndjson"):  # a promptfoo test per line
            return [self._json(line, what, reference, number)
                    for number, line in enumerate(text.splitlines(), start=1)
                    if line.strip()]  # fmt: skip
        if suffix == ".csv":  # promptfoo's __expected columns: read as `eval --cases` reads it
            from promptstudio.exchange.case_files import cases_from_csv

            try:
                return cases_from_csv(text)
            except ExchangeError as exc:
                raise exc.in_file(reference.removeprefix("file://")) from None
        raise ExchangeError(
            f"{what}: {reference} cannot be imported; only YAML, JSON, CSV and JSON Lines "
            "files are read."
        )

    @staticmethod
    def _json(text: str, what: str, reference: str, line: int = 0) -> object:
        """JSON text from a file; ``line``: the file's line it is (JSON Lines)."""
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ExchangeError(
                f"{what}: {reference} is not valid JSON (line {line or exc.lineno}: {exc.msg})."
            ) from None
        except RecursionError:
            raise ExchangeError(f"{what}: {reference} is nested too deeply.") from None

    def _read(self, reference: str, what: str) -> tuple[Path, str] | None:
        target = reference.removeprefix("file://")
        if "://" in target:  # huggingface://, https://, ...
            raise ExchangeError(
                f"{what} comes from {reference}; only files next to the config are read."
            )
        if _CODE_FILE.search(target):
            raise ExchangeError(
                f"{what} is produced by code ({reference}); prompt and test functions "
                "cannot be imported."
            )
        if any(ch in target for ch in "*?"):
            raise ExchangeError(f"{what} names files by a pattern ({reference}); list them.")
        if self.base_dir is None:
            raise ExchangeError(
                f"{what} is read from {reference}, which cannot be reached from the config's "
                "text alone: import the config file itself."
            )
        path = self._inside(target)
        if path is None:
            self.outside.append(reference)
            return None
        data = read_referenced(path, f"{what}: {reference}")
        try:
            return path, checked_text(data)
        except ExchangeError as exc:
            raise ExchangeError(f"{what}: {reference}: {exc}") from None

    def _inside(self, target: str) -> Path | None:
        """The file ``target`` names, resolved; None when it lies outside the config's folder.

        Resolving first (``..``, symbolic links anywhere on the way) and then checking
        containment means no spelling of the path and no link can lead out.
        """
        assert self.base_dir is not None
        path = self.base_dir / target
        if self.allow_outside:
            return path
        try:
            base = self.base_dir.resolve()
            resolved = path.resolve()
        except (OSError, RuntimeError):  # a symlink loop: treat it as leading out
            return None
        return resolved if resolved.is_relative_to(base) else None


def _files(count: int) -> str:
    return "a file" if count == 1 else f"{count} files"


def load_yaml(text: str, what: str, *, reference: str = "") -> Any:
    """Safe YAML as JSON-ready data; a syntax error carries the line when known.

    For a file the config refers to, the line goes into the message instead (``line``
    always means a line of the config). Aliases are allowed (promptfoo configs share
    assertions with ``&name``/``*name``), but a document expanding past a million values
    ("billion laughs") is refused.
    """
    subject = f"{what}: {reference}" if reference else what
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = f"is not valid YAML: {exc.problem or exc.context}."
        if reference and line is not None:
            raise ExchangeError(f"{subject}, line {line} {problem}") from None
        raise ExchangeError(f"{subject} {problem}", line=None if reference else line) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise ExchangeError(f"{subject} is not valid YAML: {exc}.") from None
    except (ValueError, OverflowError) as exc:  # PyYAML's own: "\U0FFFFFFF", no character
        raise ExchangeError(f"{subject} is not valid YAML: {BAD_ESCAPE} ({exc}).") from None
    budget = _MAX_VALUES

    def plain(value: object) -> Any:
        nonlocal budget
        budget -= 1
        if budget < 0:
            raise ExchangeError(
                f"{subject} expands to over {_MAX_VALUES:,} values (through YAML aliases); "
                "it is not imported."
            )
        if isinstance(value, dict):
            return {str(key): plain(item) for key, item in value.items()}
        if isinstance(value, list):
            return [plain(item) for item in value]
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        if isinstance(value, datetime.date):  # YAML dates and timestamps
            return value.isoformat()
        return value

    try:
        return plain(data)
    except RecursionError:
        raise ExchangeError(f"{subject} is nested too deeply.") from None
