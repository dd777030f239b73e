"""promptfoo's SQL checks: ``is-sql`` and ``contains-sql``, parsed by sqlglot.

The value, when given, is an object with ``databaseType`` (promptfoo's, i.e.
node-sql-parser's, names; default MySQL), ``allowedTables`` and ``allowedColumns``
(patterns over node-sql-parser's authority strings, ``select::null::table``). A select item
of two bare names is refused as a missing comma, as promptfoo does. sqlglot is imported
only when SQL is checked. :mod:`promptstudio.evals.checks_more` lists these types with its
own; this module builds only on :mod:`promptstudio.evals.grading`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from promptstudio.evals import grading

if TYPE_CHECKING:
    from promptstudio.evals.grading import Answer, _Check, _Spec

TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "is-sql": "The output is valid SQL (value: databaseType, allowedTables, allowedColumns).",
        "contains-sql": "The output is valid SQL or holds a code block of valid SQL.",
    }
)
"""The types this module grades, with a line for the UI."""

# sqlglot's dialect for each of promptfoo's (node-sql-parser's) database types; None: the
# generic dialect, for databases sqlglot has no dialect of.
SQL_DIALECTS: Final[Mapping[str, str | None]] = MappingProxyType(
    {
        "athena": "athena",
        "bigquery": "bigquery",
        "db2": None,
        "flinksql": None,
        "hive": "hive",
        "mariadb": "mysql",
        "mysql": "mysql",
        "noql": None,
        "postgresql": "postgres",
        "redshift": "redshift",
        "snowflake": "snowflake",
        "sqlite": "sqlite",
        "transactsql": "tsql",
    }
)
DEFAULT_DATABASE: Final = "MySQL"

_FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)```", re.DOTALL)
_SQL_KEYS = frozenset({"databaseType", "allowedTables", "allowedColumns"})


def check_value(spec: _Spec) -> None:
    """Raise :class:`GraderError` if the value of an SQL check is wrong."""
    _sql_options(spec)


@dataclass(frozen=True, slots=True)
class _SqlOptions:
    database: str
    dialect: str | None
    tables: tuple[re.Pattern[str], ...] | None
    columns: tuple[re.Pattern[str], ...] | None


def _sql_options(spec: _Spec) -> _SqlOptions:
    value = grading._object_value(spec)
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise grading.GraderError(
            f"The value of '{spec.written}' must be an object such as "
            '{"databaseType": "PostgreSQL"}.'
        )
    unknown = set(value) - _SQL_KEYS
    if unknown:
        raise grading.GraderError(
            f"'{spec.written}' knows {', '.join(sorted(_SQL_KEYS))}, not {sorted(unknown)}."
        )
    database = value.get("databaseType") or DEFAULT_DATABASE
    if not isinstance(database, str) or database.lower() not in SQL_DIALECTS:
        raise grading.GraderError(
            f"Unknown databaseType {database!r} in '{spec.written}'. Known: "
            "Athena, BigQuery, DB2, FlinkSQL, Hive, MariaDB, MySQL, Noql, PostgresQL, "
            "Redshift, Snowflake, Sqlite, TransactSQL."
        )
    return _SqlOptions(
        database,
        SQL_DIALECTS[database.lower()],
        _patterns(spec.written, "allowedTables", value.get("allowedTables")),
        _patterns(spec.written, "allowedColumns", value.get("allowedColumns")),
    )


def _patterns(written: str, key: str, value: object) -> tuple[re.Pattern[str], ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise grading.GraderError(f"The {key} of '{written}' must be a list of texts.")
    patterns = []
    for item in value:
        try:
            patterns.append(re.compile(item, re.IGNORECASE))
        except re.error as exc:
            raise grading.GraderError(
                f"The {key} entry {item!r} of '{written}' is not a valid pattern: {exc.msg}."
            ) from None
    return tuple(patterns)


def _is_sql(spec: _Spec, answer: Answer, expected: str | None) -> _Check:
    options = _sql_options(spec)
    problem = _sql_problem(answer.text, options)
    if problem is None:
        return grading._Check(True, f"The output is valid {options.database} SQL.")
    return grading._Check(False, f"The output is not valid {options.database} SQL: {problem}.")


def _contains_sql(spec: _Spec, answer: Answer, expected: str | None) -> _Check:
    options = _sql_options(spec)
    problem = _sql_problem(answer.text, options)
    if problem is None:
        return grading._Check(True, f"The output is valid {options.database} SQL.")
    blocks = [m.group(2) for m in _FENCE.finditer(answer.text) if m.group(1).lower() in ("", "sql")]
    problems = [_sql_problem(block, options) for block in blocks]
    if None in problems:
        return grading._Check(
            True, f"The output holds a code block of valid {options.database} SQL."
        )
    if blocks:
        return grading._Check(
            False, f"No code block of the output is valid {options.database} SQL: {problems[0]}."
        )
    return grading._Check(
        False, f"The output is not valid {options.database} SQL and has no code block: {problem}."
    )


def _sql_problem(text: str, options: _SqlOptions) -> str | None:
    """Why ``text`` is not SQL for ``options`` (None when it is)."""
    import sqlglot  # a few tenths of a second to import: only when SQL is checked
    from sqlglot import expressions as exp

    if not text.strip():
        return "it is empty"
    try:
        statements = [s for s in sqlglot.parse(text, read=options.dialect) if s is not None]
    except sqlglot.errors.SqlglotError as exc:
        return _first_line(str(exc))
    if not statements:
        return "it holds no statement"
    for statement in statements:
        if not isinstance(statement, _statement_types(exp)):
            return f"{grading._quote(statement.sql())} is not a statement"
    missing_comma = _missing_comma(sqlglot.tokenize(text, read=options.dialect))
    if missing_comma is not None:
        return missing_comma
    tables, columns = _authorities(statements, exp)
    for name, allowed, found in (
        ("table", options.tables, tables),
        ("column", options.columns, columns),
    ):
        if allowed is None:
            continue
        refused = [item for item in found if not any(p.fullmatch(item) for p in allowed)]
        if refused:
            return f"the {name} access {', '.join(refused)} is not allowed"
    return None


def _missing_comma(tokens: Sequence[Any]) -> str | None:
    """promptfoo reads ``SELECT a b FROM t`` as a missing comma, not as an alias without
    AS: a select item of exactly two plain names is refused."""
    names = ("VAR", "IDENTIFIER")
    for index, token in enumerate(tokens):
        if token.token_type.name != "SELECT":
            continue
        items: list[list[Any]] = [[]]
        depth = 0
        for following in tokens[index + 1 :]:
            kind = following.token_type.name
            if depth == 0 and kind in ("FROM", "SEMICOLON", "R_PAREN", "UNION", "INTO"):
                break
            depth += {"L_PAREN": 1, "R_PAREN": -1}.get(kind, 0)
            if depth == 0 and kind == "COMMA":
                items.append([])
            elif not (kind in ("DISTINCT", "ALL") and items == [[]]):
                items[-1].append(following)
        for item in items:
            if len(item) == 2 and all(t.token_type.name in names for t in item):
                first, second = item[0].text, item[1].text
                return (
                    f"'{first} {second}' looks like a missing comma: write '{first}, {second}', "
                    f"or '{first} AS {second}' for a column alias"
                )
    return None


def _statement_types(exp: Any) -> tuple[type[Any], ...]:
    names = ("Query", "Insert", "Update", "Delete", "Create", "Drop", "Alter", "Merge")
    return tuple(getattr(exp, name) for name in names if hasattr(exp, name))


def _authorities(statements: Sequence[Any], exp: Any) -> tuple[list[str], list[str]]:
    """node-sql-parser's authority strings: ``select::db::table``, ``select::table::column``
    (``null`` where the query names none; ``(.*)`` for ``*`` and whole-row writes)."""
    tables: dict[str, None] = {}
    columns: dict[str, None] = {}
    kinds = (exp.Select, exp.Insert, exp.Update, exp.Delete)
    for statement in statements:
        for table in statement.find_all(exp.Table):
            kind = _kind(table, kinds)
            tables[f"{kind}::{table.db or 'null'}::{table.name}"] = None
            if kind == "delete" or (kind == "insert" and not isinstance(table.parent, exp.Schema)):
                columns[f"{kind}::{table.name}::(.*)"] = None
        for column in statement.find_all(exp.Column):
            columns[f"{_kind(column, kinds)}::{column.table or 'null'}::{column.name}"] = None
        for star in statement.find_all(exp.Star):
            if not isinstance(star.parent, exp.Column):
                columns[f"{_kind(star, kinds)}::null::(.*)"] = None
    return list(tables), list(columns)


def _kind(node: Any, kinds: tuple[type[Any], ...]) -> str:
    parent = node.parent
    while parent is not None and not isinstance(parent, kinds):
        parent = parent.parent
    return type(parent).__name__.lower() if parent is not None else "select"


GRADERS: Final[Mapping[str, Callable[[_Spec, Answer, str | None], _Check]]] = MappingProxyType(
    {
        "is-sql": _is_sql,
        "contains-sql": _contains_sql,
    }
)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "it cannot be parsed"
    return re.sub(r"\x1b\[[0-9;]*m", "", line).rstrip(".")
