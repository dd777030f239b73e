"""Which input variables a template reads, and exactly where.

Inputs are what Jinja itself reports as undeclared (so ``set`` targets, loop variables and
macro arguments are not inputs). A use is a variable *load* in an expression, found by the
positioned parser, so attribute names after ``.``, filter and test names and keyword
argument names never count. When a name is both an input and bound somewhere (``{{ x }}``
then ``{% set x = 1 %}{{ x }}``), each load is classified by asking Jinja's analysis about
that load alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import nodes
from jinja2.environment import Environment
from jinja2.exceptions import TemplateSyntaxError
from jinja2.meta import TrackingCodeGenerator

from promptstudio.templating.environment import environment
from promptstudio.templating.parsing import ParsedTemplate, compile_error, parse
from promptstudio.templating.source import normalise


@dataclass(frozen=True, slots=True)
class VariableUse:
    """One occurrence of an input variable; positions refer to the normalised source."""

    name: str
    line: int  # 1-based
    column: int  # 1-based, in characters
    offset: int  # 0-based character offset
    length: int


class _UndeclaredFinder(TrackingCodeGenerator):
    """``jinja2.meta``'s tracker without constant folding, which would run template code."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.optimizer = None


#: Names bound implicitly inside loops, macros and blocks.
_IMPLICIT = frozenset({"loop", "caller", "varargs", "kwargs", "self", "super"})
#: Beyond this many ambiguous loads, stop probing and count them all as uses.
_MAX_PROBES = 64


def undeclared(parsed: ParsedTemplate) -> set[str]:
    """The template's input names, as Jinja's own scope analysis sees them."""
    finder = _UndeclaredFinder(environment())
    try:
        finder.visit(parsed.ast)
    except TemplateSyntaxError as exc:  # e.g. "No filter named 'x'."
        raise compile_error(exc, parsed) from None
    return finder.undeclared_identifiers


def _bound_names(ast: nodes.Template) -> set[str]:
    """Every name the template binds somewhere (targets, parameters, macros, imports)."""
    bound = set(_IMPLICIT)
    bound.update(n.name for n in ast.find_all(nodes.Name) if n.ctx != "load")
    bound.update(n.name for n in ast.find_all(nodes.Macro))
    bound.update(n.target for n in ast.find_all(nodes.Import))
    for node in ast.find_all(nodes.FromImport):
        bound.update(name if isinstance(name, str) else name[1] for name in node.names)
    return bound


def _free_loads(parsed: ParsedTemplate, inputs: set[str]) -> list[nodes.Name]:
    """Loads of input names that read the input, not a local binding of the same name."""
    loads = [n for n in parsed.name_offsets if n.ctx == "load" and n.name in inputs]
    ambiguous = _bound_names(parsed.ast) & inputs
    candidates = [n for n in loads if n.name in ambiguous]
    if not candidates or len(candidates) > _MAX_PROBES:
        return loads
    free = [n for n in loads if n.name not in ambiguous]
    for node in candidates:
        # Hide every other load of this name; the name is still undeclared iff this one is free.
        others = [n for n in loads if n.name == node.name and n is not node]
        for other in others:
            other.name = "\x00probe"
        try:
            if node.name in undeclared(parsed):
                free.append(node)
        finally:
            for other in others:
                other.name = node.name
    return free


def analyse(parsed: ParsedTemplate) -> tuple[set[str], list[VariableUse]]:
    """The input names of ``parsed`` and all their uses, in source order."""
    inputs = undeclared(parsed)
    uses = []
    for node in _free_loads(parsed, inputs):
        offset = parsed.name_offsets[node]
        line, column = parsed.lines.position(offset)
        uses.append(VariableUse(node.name, line, column, offset, len(node.name)))
    uses.sort(key=lambda use: use.offset)
    return inputs, uses


def find_variables(source: str) -> list[VariableUse]:
    """Every use of every input variable, in source order; raises :class:`TemplateError`."""
    return analyse(parse(normalise(source)))[1]


def input_names(source: str) -> list[str]:
    """Distinct input names in order of first use; raises :class:`TemplateError`."""
    inputs, uses = analyse(parse(normalise(source)))
    names = list(dict.fromkeys(use.name for use in uses))
    # Jinja may report an input we found no load for (shouldn't happen); keep it visible.
    names.extend(sorted(inputs - set(names)))
    return names
