"""promptfoo's further deterministic checks: lists of texts, distances, overlap, XML, SQL.

Names and meanings follow promptfoo's documentation (``configuration/expected-outputs/
deterministic``): ``contains-any``/``-all`` and their case-insensitive ``i`` forms take a
list or comma-separated text (quotes keep a comma inside a value); ``levenshtein`` passes
when the edit distance is at most ``threshold`` (default 5); ``rouge-n`` when the ROUGE-1
F-score against the value is at least ``threshold`` (default 0.75); ``bleu`` when the
BLEU-4 score is at least ``threshold`` (default 0.5); ``is-xml``/``contains-xml`` with
optional ``requiredElements``; ``is-sql``/``contains-sql`` with optional ``databaseType``,
``allowedTables`` and ``allowedColumns`` (parsed by sqlglot); ``finish-reason`` compares
the provider's stop reason, normalised to promptfoo's ``stop``, ``length``,
``content_filter``, ``tool_calls``. ``not-`` negates each, as for every check.

:mod:`promptstudio.evals.graders` registers the types listed in :data:`TYPES` (the SQL
ones are graded in :mod:`promptstudio.evals.checks_sql`); this module builds only on
:mod:`promptstudio.evals.grading` and that one, so either can be imported first.
``weight`` and a case's ``threshold``
combine the checks as promptfoo does (:func:`check_weight`; the weighted score itself is
:func:`promptstudio.evals.results.weighted_score`).
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from promptstudio.evals import checks_sql, grading

if TYPE_CHECKING:
    from promptstudio.evals.grading import Answer, _Check, _Spec

TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "contains-any": "The output contains at least one of the values (a list, or a, b, c).",
        "contains-all": "The output contains every one of the values (a list, or a, b, c).",
        "icontains-any": "The output contains at least one of the values, ignoring case.",
        "icontains-all": "The output contains every one of the values, ignoring case.",
        "levenshtein": "The output is at most threshold edits (default 5) from the value.",
        "rouge-n": "ROUGE-1 F-score of the output against the value ≥ threshold (default 0.75).",
        "bleu": "BLEU score of the output against the value(s) ≥ threshold (default 0.5).",
        "is-xml": "The output is one well-formed XML document (value: requiredElements).",
        "contains-xml": "The output holds well-formed XML (value: requiredElements).",
        **checks_sql.TYPES,
        "finish-reason": "The model stopped for this reason: stop, length, content_filter, ...",
    }
)
"""The types this module grades, with a line for the UI."""

DEFAULT_THRESHOLDS: Final[Mapping[str, float]] = MappingProxyType(
    {"levenshtein": 5.0, "rouge-n": 0.75, "bleu": 0.5}
)
"""promptfoo's default ``threshold`` per type, when the check gives none."""

FINISH_REASONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        # OpenAI Chat Completions and compatible servers
        "stop": "stop",
        "length": "length",
        "content_filter": "content_filter",
        "tool_calls": "tool_calls",
        "function_call": "tool_calls",
        # Anthropic Messages
        "end_turn": "stop",
        "stop_sequence": "stop",
        "max_tokens": "length",
        "tool_use": "tool_calls",
        "refusal": "content_filter",
        # OpenAI Responses (``completed``, or the reason it is incomplete)
        "completed": "stop",
        "max_output_tokens": "length",
    }
)
"""Provider stop reasons and the normalised name promptfoo compares (as its providers map
them); a reason not listed is compared as it is, ignoring case."""

_WORD = re.compile(r"\w+")
_DTD_SUBSET = re.compile(r"<!DOCTYPE[^>]*\[", re.IGNORECASE)
_ELEMENT_START = re.compile(r"<([A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)")
_XML_CANDIDATES: Final = 64  # element starts tried by contains-xml


# ---- reading a check's value ------------------------------------------------------------


def check_value(spec: _Spec) -> None:
    """Raise :class:`GraderError` if the value or threshold of one of our types is wrong."""
    base, written, threshold = spec.base, spec.written, spec.threshold
    if base in ("contains-any", "contains-all", "icontains-any", "icontains-all"):
        _needles(spec)
    elif base == "levenshtein":
        _reference(spec)
        if threshold is not None and threshold < 0:
            raise grading.GraderError(f"The threshold of '{written}' cannot be negative.")
    elif base in ("rouge-n", "bleu"):
        if base == "rouge-n":
            _reference(spec)
        else:
            _references(spec)
        if threshold is not None and not 0 <= threshold <= 1:
            raise grading.GraderError(f"The threshold of '{written}' must be between 0 and 1.")
    elif base in ("is-xml", "contains-xml"):
        _required_elements(spec)
    elif base in checks_sql.TYPES:
        checks_sql.check_value(spec)
    elif base == "finish-reason":
        _finish_reason(spec)


def check_weight(written: str, weight: object) -> None:
    """A check's ``weight``, when given, is a number ≥ 0 (promptfoo's default is 1)."""
    if weight is None:
        return
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise grading.GraderError(f"The weight of '{written}' must be a number, not {weight!r}.")
    if not math.isfinite(weight) or weight < 0:
        raise grading.GraderError(f"The weight of '{written}' must be a number ≥ 0.")


def _needles(spec: _Spec) -> list[str]:
    value = spec.value
    if isinstance(value, str):
        items: list[object] = list(split_values(spec.written, value))
    elif isinstance(value, list):
        items = value
    else:
        raise grading.GraderError(
            f"'{spec.written}' needs a 'value': a list of texts, or texts separated by commas."
        )
    needles = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise grading.GraderError(
                f"The values of '{spec.written}' must be texts or numbers, not {item!r}."
            )
        text = item if isinstance(item, str) else grading._number_text(item)
        if not text:
            raise grading.GraderError(
                f"'{spec.written}' has an empty value, which every output contains."
            )
        needles.append(text)
    if not needles:
        raise grading.GraderError(f"'{spec.written}' needs at least one value to look for.")
    return needles


def split_values(written: str, text: str) -> Iterator[str]:
    """Comma-separated values as promptfoo reads them: trimmed, empty ones skipped, and
    ``"quoted, values"`` kept whole (``""`` or ``\\"`` for a quote inside)."""
    index, size = 0, len(text)
    while index < size:
        while index < size and (text[index].isspace() or text[index] == ","):
            index += 1
        if index >= size:
            return
        if text[index] != '"':
            end = text.find(",", index)
            end = size if end < 0 else end
            yield text[index:end].strip()
            index = end
            continue
        field, index = _quoted(written, text, index + 1)
        yield field
        while index < size and text[index].isspace():
            index += 1
        if index < size and text[index] != ",":
            raise grading.GraderError(
                f"In '{written}', put a comma after the quoted value {field!r}."
            )


def _quoted(written: str, text: str, index: int) -> tuple[str, int]:
    field: list[str] = []
    while index < len(text):
        char, following = text[index], text[index + 1 : index + 2]
        if (char == "\\" and following in ('"', "\\")) or (char == '"' and following == '"'):
            field.append(following)
            index += 2
        elif char == '"':
            return "".join(field), index + 1
        else:
            field.append(char)
            index += 1
    raise grading.GraderError(f"In '{written}', a quoted value is not closed: add a '\"'.")


def _reference(spec: _Spec) -> str:
    value = spec.value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise grading.GraderError(f"'{spec.written}' needs a 'value': the text to compare with.")
    text = value if isinstance(value, str) else grading._number_text(value)
    if spec.base == "rouge-n" and not _WORD.search(text):
        raise grading.GraderError(f"The value of '{spec.written}' has no words to compare.")
    return text


def _references(spec: _Spec) -> list[str]:
    """bleu: one reference or a list; blank ones are ignored, as promptfoo does."""
    value = spec.value
    if isinstance(value, list):
        if not all(isinstance(item, str) for item in value):
            raise grading.GraderError(f"The values of '{spec.written}' must all be texts.")
        references = [item for item in value if item.strip()]
    else:
        references = [_reference(spec)]
        references = [text for text in references if text.strip()]
    if not references:
        raise grading.GraderError(
            f"'{spec.written}' needs a 'value': a reference text (or a list of them)."
        )
    return references


def _required_elements(spec: _Spec) -> list[list[str]]:
    """``root.child`` paths, from ``{requiredElements: [...]}``, a list or ``a, b`` text."""
    value = grading._object_value(spec)
    if value is None:
        return []
    if isinstance(value, Mapping):
        unknown = set(value) - {"requiredElements"}
        if unknown:
            raise grading.GraderError(
                f"'{spec.written}' knows only 'requiredElements', not {sorted(unknown)}."
            )
        value = value.get("requiredElements")
    if isinstance(value, str):
        value = list(split_values(spec.written, value))
    if not isinstance(value, list) or not value:
        raise grading.GraderError(
            f"The requiredElements of '{spec.written}' must be a list of paths like 'root.child'."
        )
    paths = []
    for path in value:
        parts = path.split(".") if isinstance(path, str) else []
        if not parts or not all(parts):
            raise grading.GraderError(
                f"In '{spec.written}', {path!r} is not an element path like 'root.child'."
            )
        paths.append(parts)
    return paths


def _finish_reason(spec: _Spec) -> str:
    value = spec.value
    if not isinstance(value, str) or not value.strip():
        raise grading.GraderError(
            f"'{spec.written}' needs a 'value': stop, length, content_filter or tool_calls."
        )
    return value.strip()


# ---- grading ---------------------------------------------------------------------------


def _contains_some(spec: _Spec, answer: Answer, expected: str | None) -> _Check:
    needles = _needles(spec)
    ignore_case = spec.base.startswith("i")
    text = answer.text.casefold() if ignore_case else answer.text
    found = [n for n in needles if (n.casefold() if ignore_case else n) in text]
    missing = [n for n in needles if n not in found]
    how = " (ignoring case)" if ignore_case else ""
    details = {"found": found, "missing": missing}
    if spec.base.endswith("-all"):
        if not missing:
            return grading._Check(True, f"The output contains all {_count(needles)}{how}.")
        reason = f"The output lacks {_listed(missing)}{how}."
        return grading._Check(False, reason, details=details)
    if found:
        reason = f"The output contains {_listed(found)}{how}."
        return grading._Check(True, reason, details=details)
    return grading._Check(False, f"The output contains none of {_listed(needles)}{how}.")


def _levenshtein(spec: _Spec, answer: Answer, expected: str | None) -> _Check:
    reference = _reference(spec)
    limit = _threshold(spec)
    distance = bounded_levenshtein(answer.text, reference, math.floor(limit))
    if distance is None:
        return grading._Check(
            False,
            f"The output is more than {limit:g} edits away from {grading._quote(reference)}.",
        )
    reason = f"The output is {grading._plural(distance, 'edit')} from {grading._quote(reference)}"
    if distance <= limit:
        return grading._Check(True, f"{reason}, within {limit:g}.", details={"distance": distance})
    return grading._Check(False, f"{reason}, over {limit:g}.", details={"distance": distance})


def bounded_levenshtein(first: str, second: str, limit: int) -> int | None:
    """The Levenshtein distance, or None when it is over ``limit``.

    Computes only the diagonal band of width ``limit`` (Ukkonen 1985): long answers against
    a small threshold stay fast.
    """
    if len(first) < len(second):
        first, second = second, first
    if len(first) - len(second) > limit:
        return None
    over = limit + 1
    previous = [j if j <= limit else over for j in range(len(second) + 1)]
    for i in range(1, len(first) + 1):
        low, high = max(1, i - limit), min(len(second), i + limit)
        current = [over] * (len(second) + 1)
        current[0] = i if i <= limit else over
        for j in range(low, high + 1):
            cost = previous[j - 1] + (first[i - 1] != second[j - 1])
            current[j] = min(over, cost, previous[j] + 1, current[j - 1] + 1)
        if min(current[max(0, low - 1) : high + 1]) > limit:
            return None
        previous = current
    distance = previous[len(second)]
    return distance if distance <= limit else None


def _rouge(spec: _Spec, answer: Answer, expected: str | None) -> _Check:
    reference = _reference(spec)
    score = rouge_1(answer.text, reference)
    return _scored(spec, "ROUGE-1", score)


def rouge_1(candidate: str, reference: str) -> float:
    """ROUGE-1 as promptfoo computes it: the F-score (beta 1) of the lower-cased words both
    texts share, counted with repeats and clipped (Lin 2004), over js-rouge's Penn Treebank
    tokens (:func:`treebank_tokens`: punctuation is a token too)."""
    found = Counter(treebank_tokens(candidate.lower()))
    wanted = Counter(treebank_tokens(reference.lower()))
    overlap = sum(min(count, found[word]) for word, count in wanted.items())
    if overlap == 0:
        return 0.0
    precision = overlap / sum(found.values())
    recall = overlap / sum(wanted.values())
    return 2 * precision * recall / (precision + recall)


# js-rouge's treeBankTokenize (used by promptfoo's rouge-n), rule by rule.
_SPLIT_CONTRACTIONS = [
    re.compile(rf"(?<![\w\u200c\u200d]){pattern}(?![\w\u200c\u200d])", re.IGNORECASE)
    for pattern in (r"(can)(not)", r"(d)('ye)", r"(gim)(me)", r"(gon)(na)", r"(got)(ta)",
                    r"(lem)(me)", r"(more)('n)", r"(wan)(na)(?= )", r"('t)(is)", r"('t)(was)")
]  # fmt: skip


def treebank_tokens(text: str) -> list[str]:
    """``text`` split as the Penn Treebank tokenizer of js-rouge splits it: punctuation,
    brackets and ``n't``/``'s`` endings apart, a full stop only at the very end."""
    text = re.sub(r"[\s\u0085]+", " ", text).strip()
    if not text:
        return []
    text = re.sub(
        r'"', lambda m: " `` " if m.start() == 0 or text[m.start() - 1] in " ([{<" else " '' ", text
    )
    text = text.replace("...", " ... ")
    text = re.sub(r"[:,](?!\d)", r" \g<0> ", text)
    text = re.sub(r"[;@#$%&]", r" \g<0> ", text)
    text = re.sub(r"([^.])(?<!\b[A-Za-z]\.[A-Za-z])(\.)([\])}>'\s]*)$", r"\1 \2\3 ", text)
    text = re.sub(r"[?!]", r" \g<0> ", text)
    text = re.sub(r"[\][(){}<>]", r" \g<0> ", text)
    text = f" {text.replace('--', ' -- ')} "
    text = re.sub(r"([^'])' ", r"\1 ' ", text)
    text = re.sub(r"'([sSmMdD]) ", r" '\1 ", text)
    text = re.sub(r"('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", r" \1 ", text)
    for pattern in _SPLIT_CONTRACTIONS:
        text = pattern.sub(lambda m: " " + " ".join(m.groups()) + " ", text)
    return re.sub(r" {2,}", " ", text).strip().split(" ")


def _bleu(spec: _Spec, answer: Answer, expected: str | None) -> _Check:
    score = bleu(answer.text, _references(spec))
    return _scored(spec, "BLEU", score)


def bleu(candidate: str, references: Sequence[str]) -> float:
    """BLEU-4 (Papineni et al. 2002) as promptfoo computes it for one answer.

    Lower-cased whitespace tokens; n-gram precisions for n = 1..4 clipped by the reference
    that matches best, a zero precision smoothed to 1e-7, equal weights; the brevity
    penalty against the reference closest in length. An empty answer scores 0.
    """
    words = candidate.lower().split()
    if not words or not references:
        return 0.0
    reference_words = [reference.lower().split() for reference in references]
    closest = reference_words[0]
    for other in reference_words[1:]:
        if abs(len(other) - len(words)) < abs(len(closest) - len(words)):
            closest = other
    log_sum = 0.0
    for n in range(1, 5):
        grams = _ngrams(words, n)
        total = sum(grams.values())
        best = 0
        for reference in reference_words:
            available = _ngrams(reference, n)
            best = max(best, sum(min(c, available[g]) for g, c in grams.items()))
        precision = best / total if total else 0.0
        log_sum += 0.25 * math.log(precision or 1e-7)
    penalty = 1.0 if len(words) > len(closest) else math.exp(1 - len(closest) / len(words))
    return penalty * math.exp(log_sum)


def _ngrams(words: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def _scored(spec: _Spec, name: str, score: float) -> _Check:
    limit = _threshold(spec)
    shown = f"The {name} score is {score:.2f}"
    if score >= limit:
        return grading._Check(True, f"{shown}, at least the threshold {limit:g}.", score=score)
    return grading._Check(False, f"{shown}, below the threshold {limit:g}.", score=score)


def _threshold(spec: _Spec) -> float:
    return spec.threshold if spec.threshold is not None else DEFAULT_THRESHOLDS[spec.base]


def _is_xml(spec: _Spec, answer: Answer, expected: str | None) -> _Check:
    paths = _required_elements(spec)
    root = _xml(answer.text.strip())
    if isinstance(root, str):
        return grading._Check(False, f"The output is not well-formed XML: {root}.")
    return _with_elements(root, paths, "The output is well-formed XML")


def _contains_xml(spec: _Spec, answer: Answer, expected: str | None) -> _Check:
    paths = _required_elements(spec)
    first: _Check | None = None
    for root in _xml_fragments(answer.text):
        check = _with_elements(root, paths, "The output contains well-formed XML")
        if check.passed:
            return check
        first = first or check
    return first or grading._Check(False, "The output contains no well-formed XML.")


def _with_elements(root: ElementTree.Element, paths: list[list[str]], said: str) -> _Check:
    missing = [".".join(path) for path in paths if not _has_path(root, path)]
    if missing:
        return grading._Check(False, f"{said} but lacks {_listed(missing)}.")
    with_paths = f" with {_listed(['.'.join(p) for p in paths])}" if paths else ""
    return grading._Check(True, f"{said}{with_paths}.")


def _xml(text: str) -> ElementTree.Element | str:
    """The parsed document, or why it is not one. DTD subsets are refused (entities in
    them could expand without bound); ElementTree loads nothing external."""
    if not text:
        return "it is empty"
    if _DTD_SUBSET.search(text):
        return "it declares a DTD internal subset, which is not checked"
    try:
        return ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        line, column = exc.position
        return f"{str(exc).split(':')[0]} at line {line}, column {column + 1}"


def _xml_fragments(text: str) -> Iterator[ElementTree.Element]:
    """The elements in ``text`` that parse: from each start tag to the closing tag that
    balances it (same name, nesting counted), or the start tag alone when it closes itself."""
    for start in list(_ELEMENT_START.finditer(text))[:_XML_CANDIDATES]:
        end = _element_end(text, start.group(1), start.end())
        if end is not None:
            root = _xml(text[start.start() : end])
            if not isinstance(root, str):
                yield root


def _element_end(text: str, name: str, after: int) -> int | None:
    tag_end = text.find(">", after)
    if tag_end < 0:
        return None
    if text[tag_end - 1] == "/":
        return tag_end + 1
    depth = 1
    tags = re.compile(rf"<{re.escape(name)}(?=[\s/>])[^>]*>|</{re.escape(name)}\s*>")
    for tag in tags.finditer(text, tag_end + 1):
        if tag.group().startswith("</"):
            depth -= 1
            if depth == 0:
                return tag.end()
        elif not tag.group().endswith("/>"):
            depth += 1
    return None


def _has_path(element: ElementTree.Element, path: Sequence[str]) -> bool:
    if _local_name(element.tag) != path[0]:
        return False
    return len(path) == 1 or any(_has_path(child, path[1:]) for child in element)


def _local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def _finish(spec: _Spec, answer: Answer, expected: str | None) -> _Check:
    wanted = _finish_reason(spec)
    reason = answer.finish_reason
    if not reason:
        return grading._Check(
            False, "The provider did not report why the answer stopped.", decided=False
        )
    normalised = FINISH_REASONS.get(reason.lower(), reason.lower())
    said = reason if normalised == reason.lower() else f"{reason} ({normalised})"
    if normalised == wanted.lower():
        return grading._Check(True, f"The model stopped for {said}, as expected.")
    return grading._Check(False, f"The model stopped for {said}, not {wanted}.")


GRADERS: Final[Mapping[str, Callable[[_Spec, Answer, str | None], _Check]]] = MappingProxyType(
    {
        "contains-any": _contains_some,
        "contains-all": _contains_some,
        "icontains-any": _contains_some,
        "icontains-all": _contains_some,
        "levenshtein": _levenshtein,
        "rouge-n": _rouge,
        "bleu": _bleu,
        "is-xml": _is_xml,
        "contains-xml": _contains_xml,
        **checks_sql.GRADERS,
        "finish-reason": _finish,
    }
)


# ---- text helpers -----------------------------------------------------------------------


def _listed(texts: Sequence[str]) -> str:
    return ", ".join(grading._quote(text, 40) for text in texts)


def _count(texts: Sequence[str]) -> str:
    return grading._plural(len(texts), "value")
