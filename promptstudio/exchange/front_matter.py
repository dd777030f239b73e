"""YAML front matter between ``---`` lines, read with file line numbers in its errors."""

from __future__ import annotations

import datetime
from typing import Any

import yaml

from promptstudio.exchange.errors import ExchangeError

FENCE = "---"

# Characters YAML reads as line breaks or strips: written escaped, in double quotes.
_ESCAPED = frozenset("\x85\u2028\u2029\ufeff\r")


class _Dumper(yaml.SafeDumper):
    """Safe YAML that writes a string with line-break look-alikes in escaped form."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style: str | None = None
    if any(ch in _ESCAPED or (not ch.isprintable() and ch != "\n") for ch in text):
        style = '"'
    elif "\n" in text:
        style = "|"  # PyYAML falls back to quotes where a block cannot hold the text
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_text)


def dump_yaml(data: dict[str, Any]) -> str:
    """Block YAML in the given key order; multi-line text as ``|`` blocks where possible."""
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )


def dump_front_matter(data: dict[str, Any], body: str) -> str:
    """``---``, ``data`` as YAML, ``---``, then ``body`` verbatim."""
    return f"{FENCE}\n{dump_yaml(data)}{FENCE}\n{body}"


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """The front matter as a mapping and the body after the closing fence, unchanged."""
    first, newline, rest = text.partition("\n")
    if first.rstrip() != FENCE or not newline:
        raise ExchangeError("The file does not start with '---' front matter.", line=1)
    consumed = len(first) + 1
    lines: list[str] = []
    for line in rest.split("\n"):
        consumed += len(line) + 1
        if line.rstrip() == FENCE:
            return _load("\n".join(lines)), text[consumed:]
        lines.append(line)
    raise ExchangeError("The front matter has no closing '---' line.", line=1)


def _load(source: str) -> dict[str, Any]:
    try:
        _refuse_aliases(source)
        data = yaml.safe_load(source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # +1 for 1-based lines, +1 for the opening fence.
        line = mark.line + 2 if mark is not None else None
        raise ExchangeError(
            f"The front matter is not valid YAML: {exc.problem}.", line=line
        ) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise ExchangeError(f"The front matter is not valid YAML: {exc}.") from None
    except (ValueError, OverflowError) as exc:  # PyYAML's own: "\U0FFFFFFF", no character
        raise ExchangeError(f"The front matter is not valid YAML: {BAD_ESCAPE} ({exc}).") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ExchangeError("The front matter must be a YAML mapping (key: value lines).", line=2)
    return {str(key): _plain(value) for key, value in data.items()}


BAD_ESCAPE = "an escape sequence names no Unicode character"


def load_yaml(source: str) -> Any:
    """A whole YAML document (a file front matter refers to) as JSON-ready data."""
    try:
        _refuse_aliases(source)
        return _plain(yaml.safe_load(source))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ExchangeError(f"not valid YAML{where}: {exc.problem}.") from None
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError) as exc:
        raise ExchangeError(f"not valid YAML: {exc}.") from None


def _refuse_aliases(source: str) -> None:
    """Aliases (``*name``) can multiply a small file into gigabytes ("billion laughs")."""
    for event in yaml.parse(source, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise ExchangeError(
                "YAML aliases (*name) are not supported in front matter.",
                line=event.start_mark.line + 2 if event.start_mark is not None else None,
            )


def _plain(value: object) -> Any:
    """JSON-ready data: YAML dates become ISO text, other keys become text."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value
