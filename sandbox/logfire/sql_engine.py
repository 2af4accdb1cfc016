"""Logfire's SQL dialect (DataFusion, Postgres-like) on an embedded, read-only DuckDB.

A query is parsed with sqlglot (Postgres dialect), checked (one read-only statement, known tables only),
rewritten (Logfire's functions and operators → DuckDB's; every `records`/`metrics` reference → a subquery
restricted to the caller's project and time window) and generated as DuckDB SQL. No regular expressions
touch the SQL text.
"""

from __future__ import annotations

import functools
import json
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import ParseError, SqlglotError

from sandbox.logfire.dataset import METRICS_SCHEMA
from sandbox.logfire.exporter import RECORDS_SCHEMA

if TYPE_CHECKING:
    from sandbox.logfire.dataset import Dataset

LEVELS = {
    "trace": 1,
    "debug": 5,
    "info": 9,
    "notice": 10,
    "warn": 13,
    "warning": 13,
    "error": 17,
    "fatal": 21,
}
QUERY_TIMEOUT_S = 30.0

_RECORDS_FULL = "_lf_records_full"
_METRICS = "_lf_metrics"
# Hidden column of the records table: bit i set when the row's `attributes` has the i-th key of the engine's
# key list (the first 128 keys). `attributes ? 'k'` and the like push `_lf_has_attribute(...)` down into the
# records subquery, so the JSON is parsed only for rows that can match; results are unchanged.
_KEYS_COLUMN = "_lf_attribute_keys"
_KEY_BITS = 128
_RECORDS_NAMES = frozenset({"records", "records_full", "records_all"})
# Visible table name → (internal table, timestamp the window applies to, extra filter)
_TABLES: dict[str, tuple[str, str, str | None]] = {
    "records": (_RECORDS_FULL, "start_timestamp", "kind <> 'pending_span'"),
    "records_full": (_RECORDS_FULL, "start_timestamp", None),
    "records_all": (_RECORDS_FULL, "start_timestamp", None),
    "metrics": (_METRICS, "recorded_timestamp", None),
}
_TABLE_FUNCTIONS = {"generate_series", "range", "unnest"}
_FORBIDDEN_NODES: tuple[type[exp.Expression], ...] = (
    exp.DML,
    exp.DDL,
    exp.Command,
    exp.Set,
    exp.Pragma,
    exp.Copy,
    exp.Into,
    exp.Use,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Describe,
    exp.LoadData,
    exp.Kill,
    exp.Analyze,
)
_SQL_TYPES = {
    "TEXT": "VARCHAR",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ",
    "DOUBLE PRECISION": "DOUBLE",
    "INTEGER": "INTEGER",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "TEXT[]": "VARCHAR[]",
    "INTEGER[]": "INTEGER[]",
    "DOUBLE PRECISION[]": "DOUBLE[]",
}


class LogfireDialect(Postgres):
    """Postgres as sqlglot reads it, except where DataFusion differs at parse time."""

    class Parser(Postgres.Parser):
        FUNCTIONS: ClassVar[dict[str, Any]] = {
            **Postgres.Parser.FUNCTIONS,
            # DataFusion's to_char takes chrono (strftime) formats, not Postgres' 'YYYY-MM-DD'.
            "TO_CHAR": lambda args: exp.Anonymous(this="strftime", expressions=args),
        }


class QueryError(Exception):
    """A query the engine refuses or cannot run; str() is the engine's message."""


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    datatype: str
    nullable: bool


@dataclass(frozen=True)
class QueryResult:
    columns: list[ColumnInfo]
    rows: list[dict[str, Any]]
    arrow: pa.Table | None = None  # the same result as Arrow (for the query API's Arrow and CSV answers)


@dataclass(frozen=True)
class TableSchema:
    name: str
    columns: list[tuple[str, str, bool]]  # (name, SQL type as GET /v1/schemas reports it, nullable)


class SqlEngine:
    def __init__(self, datasets: Sequence[Dataset], *, timeout_s: float = QUERY_TIMEOUT_S) -> None:
        if not datasets:
            raise ValueError("SqlEngine needs at least one dataset")
        self.timeout_s = timeout_s
        self._db = duckdb.connect(":memory:")
        self._db.execute("SET TimeZone = 'UTC'")
        self._load(_RECORDS_FULL, [d.records for d in datasets])
        self._load(_METRICS, [d.metrics for d in datasets])
        self._db.execute(_MACROS)
        self._index_attribute_keys()
        for setting in _LOCKDOWN:
            self._db.execute(setting)
        self.tables = [self._schema("records", _RECORDS_FULL), self._schema("metrics", _METRICS)]

    def schemas(self) -> dict[str, Any]:
        """The body of GET /v1/schemas, from the engine's real tables."""
        return {
            "tables": [
                {
                    "name": table.name,
                    "description": "",
                    "schema": {
                        name: {"data_type": sql_type, "nullable": nullable, "description": ""}
                        for name, sql_type, nullable in table.columns
                    },
                }
                for table in self.tables
            ]
        }

    def _load(self, name: str, tables: list[pa.Table]) -> None:
        combined = pa.concat_tables(tables)
        columns = ", ".join(
            f'"{f.name}" {_duckdb_type(f.type)}{"" if f.nullable else " NOT NULL"}' for f in combined.schema
        )
        self._db.execute(f"CREATE TABLE {name} ({columns})")
        self._db.register("_lf_source", combined)
        self._db.execute(f"INSERT INTO {name} SELECT * FROM _lf_source")  # noqa: S608 (our own table names)
        self._db.unregister("_lf_source")

    def _index_attribute_keys(self) -> None:
        keys = [
            key
            for (key,) in self._db.execute(
                f"SELECT DISTINCT unnest(json_keys(attributes)) AS key FROM {_RECORDS_FULL} ORDER BY key"  # noqa: S608
            ).fetchall()
        ]
        all_keys = _string_list(keys)
        bit_keys = _string_list(keys[:_KEY_BITS])
        bit = f"(1::UHUGEINT << (list_position({bit_keys}, key) - 1)::UHUGEINT)"
        row_bits = (
            "list_transform(json_keys(attributes), "
            f"lambda key: CASE WHEN list_contains({bit_keys}, key) THEN {bit} ELSE 0::UHUGEINT END)"
        )
        self._db.execute(f"ALTER TABLE {_RECORDS_FULL} ADD COLUMN {_KEYS_COLUMN} UHUGEINT")
        self._db.execute(
            f"UPDATE {_RECORDS_FULL} SET {_KEYS_COLUMN} = "  # noqa: S608 (our own names and quoted keys)
            f"coalesce(list_reduce({row_bits}, lambda a, b: a | b, 0::UHUGEINT), 0::UHUGEINT)"
        )
        self._db.execute(
            "CREATE MACRO _lf_has_attribute(keys, key) AS CASE "
            f"WHEN NOT list_contains({all_keys}, key) THEN false "
            f"WHEN NOT list_contains({bit_keys}, key) THEN true ELSE (keys & {bit}) <> 0 END"
        )

    def _schema(self, visible: str, internal: str) -> TableSchema:
        rows = self._db.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_name = ? AND NOT starts_with(column_name, '_lf_') ORDER BY column_name",
            [internal],
        ).fetchall()
        return TableSchema(
            visible,
            [(name, _postgres_type(sql_type), nullable == "YES") for name, sql_type, nullable in rows],
        )

    def run(
        self,
        sql: str,
        *,
        project_id: str,
        min_timestamp: datetime | None = None,
        max_timestamp: datetime | None = None,
        limit: int | None = None,
        default_limit: int | None = None,
        timezone: str | None = None,
        environments: Sequence[str] | None = None,
    ) -> QueryResult:
        """Thread-safe and synchronous. Only rows of `project_id` are visible; [min_timestamp, max_timestamp)
        restricts records.start_timestamp / metrics.recorded_timestamp on top of the SQL's own predicates;
        `limit` caps the rows (over the SQL's own LIMIT); `default_limit` applies only when the statement has
        no top-level LIMIT; `timezone` (IANA) sets how timestamps are truncated and rendered; `environments`
        keeps rows whose deployment_environment is listed ('' = unset)."""
        zone = _zone(timezone)
        window = Window(
            project_id,
            min_timestamp,
            max_timestamp,
            tuple(environments) if environments is not None else None,
        )
        translation = translate(
            sql, window.shape, limit=limit, default_limit=default_limit, timezone=timezone
        )
        parameters = {
            name: value for name, value in window.parameters().items() if name in translation.parameters
        }
        cursor = self._db.cursor()
        timer = threading.Timer(self.timeout_s, cursor.interrupt)
        timer.start()
        try:
            relation = cursor.sql(translation.sql, params=parameters or None)
            if relation is None:
                raise QueryError("Only SELECT queries are allowed")
            types = [str(t) for t in relation.types]
            table = relation.to_arrow_table()
        except duckdb.InterruptException:
            raise QueryError(f"Query exceeded the {self.timeout_s:g} s time limit") from None
        except duckdb.Error as error:
            raise QueryError(_engine_message(error)) from None
        finally:
            timer.cancel()
            cursor.close()
        return _result(table, types, zone, translation.not_null)


@dataclass(frozen=True)
class WindowShape:
    """Which restrictions a query gets; their values go as DuckDB parameters, so translations are cached."""

    has_min: bool
    has_max: bool
    has_environments: bool


@dataclass(frozen=True)
class Window:
    project_id: str
    min_timestamp: datetime | None
    max_timestamp: datetime | None
    environments: tuple[str, ...] | None

    @property
    def shape(self) -> WindowShape:
        return WindowShape(
            self.min_timestamp is not None, self.max_timestamp is not None, self.environments is not None
        )

    def parameters(self) -> dict[str, Any]:
        return {
            "lf_project": self.project_id,
            "lf_min": _utc(self.min_timestamp),
            "lf_max": _utc(self.max_timestamp),
            "lf_environments": [e for e in self.environments or () if e],
            "lf_unset_environment": "" in (self.environments or ()),
        }


@dataclass(frozen=True)
class Translation:
    sql: str  # DuckDB SQL with named parameters $lf_*
    parameters: frozenset[str]
    not_null: frozenset[str]  # output columns known to be NOT NULL


def _utc(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


# --- translation


@functools.lru_cache(maxsize=1024)
def translate(
    sql: str,
    window: WindowShape,
    *,
    limit: int | None = None,
    default_limit: int | None = None,
    timezone: str | None = None,
) -> Translation:
    """Logfire SQL → DuckDB SQL for one read-only query, every table restricted to the window's parameters."""
    tree = _parse(sql)
    _check_read_only(tree)
    _name_outputs(tree)
    not_null = _not_null_outputs(tree)
    tree = _bottom_up(tree, _rewrite_functions)
    tree = _bottom_up(tree, _rewrite_levels)
    tree = _bottom_up(tree, _integer_arithmetic)
    if timezone and timezone != "UTC":
        tree = _bottom_up(tree, lambda node: _in_timezone(node, timezone))
    _scope_tables(tree, window)
    if default_limit is not None and not tree.args.get("limit"):
        tree = _cap_limit(tree, default_limit)
    if limit is not None:
        tree = _cap_limit(tree, limit)
    parameters = {str(p.this) for p in tree.find_all(exp.Placeholder) if str(p.this).startswith("lf_")}
    return Translation(tree.sql(dialect="duckdb"), frozenset(parameters), frozenset(not_null))


def _bottom_up(tree: exp.Expression, rewrite: Callable[[exp.Expression], exp.Expression]) -> exp.Expression:
    """Applies `rewrite` to every node, children before parents, so a rewrite sees rewritten operands."""
    for node in reversed(list(tree.walk(bfs=False))):
        parent, key, index = node.parent, node.arg_key, node.index
        replacement = rewrite(node)
        if replacement is node:
            continue
        if parent is None:
            tree = replacement
        else:
            parent.set(key, replacement, index=index)
    return tree


def _parse(sql: str) -> exp.Expression:
    try:
        statements = [s for s in sqlglot.parse(sql, read=LogfireDialect) if s is not None]
    except ParseError as error:
        detail = error.errors[0] if error.errors else {}
        where = f" at line {detail['line']}, column {detail['col']}" if "line" in detail else ""
        raise QueryError(f"SQL error: {detail.get('description', 'invalid SQL')}{where}") from None
    except SqlglotError as error:
        raise QueryError(f"SQL error: {error}") from None
    if not statements:
        raise QueryError("SQL error: empty query")
    if len(statements) > 1:
        raise QueryError("Only one SQL statement is allowed per query")
    return statements[0]


def _check_read_only(tree: exp.Expression) -> None:
    if not isinstance(tree, exp.Query):
        raise QueryError(f"Only SELECT queries are allowed{_statement_name(tree)}")
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise QueryError(f"Only SELECT queries are allowed{_statement_name(node)}")


def _statement_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Command):
        return f", not {str(node.this).upper()}"
    if isinstance(node, exp.Into):
        return ", not SELECT INTO"
    if isinstance(node, _FORBIDDEN_NODES):
        return f", not {node.key.upper()}"
    return ""


def _name_outputs(tree: exp.Expression) -> None:
    """Unaliased computed columns get DataFusion-like names (`count(*)`, not DuckDB's `count_star()`)."""
    if not isinstance(tree, exp.Select):
        return
    for index, projection in enumerate(tree.expressions):
        if isinstance(projection, exp.Alias | exp.Column | exp.Star) or (
            projection.find(exp.Star) and not isinstance(projection, exp.Func)
        ):
            continue
        name = projection.sql(dialect="postgres", normalize_functions="lower")
        tree.expressions[index] = exp.alias_(projection, exp.to_identifier(name, quoted=True))


def _scope_tables(tree: exp.Expression, window: WindowShape) -> None:
    cte_names = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in list(tree.find_all(exp.Table)):
        if not isinstance(table.this, exp.Identifier):
            _check_table_function(table.this)
            continue
        name = table.name.lower() if not table.this.quoted else table.name
        if not table.args.get("db") and not table.args.get("catalog") and name in cte_names:
            continue
        if table.args.get("db") or table.args.get("catalog") or name not in _TABLES:
            raise QueryError(f"table '{table.sql(dialect='postgres')}' not found")
        alias = table.alias or table.name
        keys = _implied_attribute_keys(table, alias) if name in _RECORDS_NAMES else []
        subquery = _scoped_table(name, window, keys).subquery(alias)
        if table.args.get("alias") and table.args["alias"].columns:
            subquery.set("alias", table.args["alias"])
        table.replace(subquery)


def _check_table_function(function: exp.Expression) -> None:
    name = function.name.lower() if isinstance(function, exp.Anonymous) else function.key.lower()
    if isinstance(function, exp.GenerateSeries | exp.ExplodingGenerateSeries | exp.Unnest):
        return
    if name not in _TABLE_FUNCTIONS:
        raise QueryError(f"table function '{function.sql(dialect='postgres')}' is not available")


def _scoped_table(name: str, window: WindowShape, attribute_keys: Sequence[str] = ()) -> exp.Select:
    internal, timestamp, extra = _TABLES[name]
    conditions: list[exp.Expression] = [exp.column("project_id").eq(exp.Placeholder(this="lf_project"))]
    for key in attribute_keys:
        has_key = exp.Anonymous(
            this="_lf_has_attribute", expressions=[exp.column(_KEYS_COLUMN), exp.Literal.string(key)]
        )
        conditions.append(has_key)
    if extra:
        conditions.append(sqlglot.condition(extra))
    if window.has_min:
        conditions.append(exp.GTE(this=exp.column(timestamp), expression=_timestamp_parameter("lf_min")))
    if window.has_max:
        conditions.append(exp.LT(this=exp.column(timestamp), expression=_timestamp_parameter("lf_max")))
    if window.has_environments:
        conditions.append(_environment_condition())
    columns = exp.Star(except_=[exp.column(_KEYS_COLUMN)]) if internal == _RECORDS_FULL else exp.Star()
    return exp.select(columns).from_(internal).where(exp.and_(*conditions))


def _string_list(values: Sequence[str]) -> str:
    return exp.Array(expressions=[exp.Literal.string(v) for v in values]).sql(dialect="duckdb")


def _implied_attribute_keys(table: exp.Table, alias: str) -> list[str]:
    """Top-level `attributes` keys that the WHERE of a single-table SELECT on `table` requires to exist."""
    select = table.parent.parent if isinstance(table.parent, exp.From) else None
    if not isinstance(select, exp.Select) or select.args.get("joins") or not select.args.get("where"):
        return []
    keys = (_required_key(conjunct, alias) for conjunct in _conjuncts(select.args["where"].this))
    return sorted({key for key in keys if key is not None})


def _conjuncts(node: exp.Expression) -> list[exp.Expression]:
    if isinstance(node, exp.Paren):
        return _conjuncts(node.this)
    if isinstance(node, exp.And):
        return [*_conjuncts(node.this), *_conjuncts(node.expression)]
    return [node]


def _required_key(condition: exp.Expression, alias: str) -> str | None:
    """The key without which `condition` cannot hold: `attributes ? 'k'`, `attributes->>'k' = 'v'`,
    `attributes->'k' IS NOT NULL`, ..."""
    if isinstance(condition, exp.Anonymous) and str(condition.this).lower() == "json_exists":
        return _first_key(condition.expressions[0], condition.expressions[1], alias)
    if isinstance(condition, exp.Not) and isinstance(condition.this, exp.Is):
        condition = exp.Is(this=condition.this.this, expression=condition.this.expression, negate=True)
    if isinstance(condition, exp.Is):
        is_not_null = condition.args.get("negate") and isinstance(condition.expression, exp.Null)
        return _extracted_key(condition.this, alias) if is_not_null else None
    if isinstance(condition, exp.In) and all(isinstance(e, exp.Literal) for e in condition.expressions):
        return _extracted_key(condition.this, alias)
    comparisons = exp.EQ | exp.NEQ | exp.GT | exp.GTE | exp.LT | exp.LTE | exp.Like | exp.ILike
    if isinstance(condition, comparisons):
        for side, other in ((condition.this, condition.expression), (condition.expression, condition.this)):
            if isinstance(other, exp.Literal):
                key = _extracted_key(side, alias)
                if key is not None:
                    return key
    return None


def _extracted_key(node: exp.Expression, alias: str) -> str | None:
    while isinstance(node, exp.Cast | exp.Paren):
        node = node.this
    if isinstance(node, exp.JSONExtract | exp.JSONExtractScalar):
        inner = node.this
        while isinstance(inner, exp.JSONExtract | exp.JSONExtractScalar):
            node, inner = inner, inner.this
        return _first_key(inner, node.expression, alias)
    return None


def _first_key(column: exp.Expression, path: exp.Expression, alias: str) -> str | None:
    if not (isinstance(column, exp.Column) and column.name == "attributes"):
        return None
    if column.table and column.table != alias:
        return None
    parts = path.expressions if isinstance(path, exp.JSONPath) else []
    if len(parts) >= 2 and isinstance(parts[0], exp.JSONPathRoot) and isinstance(parts[1], exp.JSONPathKey):
        return str(parts[1].this)
    return None


def _environment_condition() -> exp.Expression:
    """deployment_environment in the listed ones, or unset when '' was listed."""
    column = exp.column("deployment_environment")
    listed = exp.Anonymous(
        this="list_contains", expressions=[exp.Placeholder(this="lf_environments"), column]
    )
    unset = exp.and_(exp.Placeholder(this="lf_unset_environment"), exp.Is(this=column, expression=exp.Null()))
    return exp.paren(exp.or_(listed, unset))


def _timestamp_parameter(name: str) -> exp.Expression:
    return exp.cast(exp.Placeholder(this=name), exp.DataType.build("TIMESTAMPTZ"))


def _cap_limit(tree: exp.Expression, limit: int) -> exp.Expression:
    existing = tree.args.get("limit")
    if isinstance(existing, exp.Limit):
        value = existing.expression
        if isinstance(value, exp.Literal) and value.is_int and int(value.this) <= limit:
            return tree
    if isinstance(tree, exp.Select | exp.SetOperation):
        tree.set("limit", exp.Limit(expression=exp.Literal.number(limit)))
        return tree
    return exp.select("*").from_(tree.subquery("_lf_capped")).limit(limit)


# --- dialect rewrites


def _json_path(keys: Sequence[exp.Expression]) -> exp.Expression:
    parts: list[exp.Expression] = [exp.JSONPathRoot()]
    for key in keys:
        if isinstance(key, exp.Literal) and key.is_int:
            parts.append(exp.JSONPathSubscript(this=int(key.this)))
        elif isinstance(key, exp.Literal):
            parts.append(exp.JSONPathKey(this=key.this))
        else:
            raise QueryError(f"JSON keys must be literals, got {key.sql(dialect='postgres')}")
    return exp.JSONPath(expressions=parts)


def _json_getter(args: list[exp.Expression], as_text: bool, cast: str | None = None) -> exp.Expression:
    if len(args) < 2:
        raise QueryError("JSON functions need a JSON value and at least one key")
    node_type = exp.JSONExtractScalar if as_text or cast else exp.JSONExtract
    node = node_type(this=args[0], expression=_json_path(args[1:]))
    return exp.cast(node, exp.DataType.build(cast)) if cast else node


def _rewrite_functions(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.JSONBContainsTopKey):
        return exp.Anonymous(this="json_exists", expressions=[node.this, _json_path([node.expression])])
    if isinstance(node, exp.WithinGroup) and _function_name(node.this) == "approx_percentile_cont":
        return _percentile_within_group(node)
    if isinstance(node, exp.Cast) and node.to.this in (
        exp.DataType.Type.DECIMAL,
        exp.DataType.Type.BIGDECIMAL,
    ):
        if not node.to.expressions:
            node.set("to", exp.DataType.build("DOUBLE"))
        return node
    if isinstance(node, exp.Binary) and isinstance(node, exp.EQ | exp.NEQ | exp.Like | exp.ILike):
        _compare_json_as_text(node)
        return node
    name = _function_name(node)
    if name is None:
        return node
    args = list(node.expressions) if isinstance(node, exp.Anonymous) else []
    rewrite = _FUNCTION_REWRITES.get(name)
    if rewrite is None or isinstance(node.parent, exp.WithinGroup):
        return node
    return rewrite(args)


def _function_name(node: exp.Expression) -> str | None:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return None


def _percentile_within_group(node: exp.WithinGroup) -> exp.Expression:
    fraction = node.this.expressions[0]
    ordered = node.expression.expressions[0]
    if ordered.args.get("desc"):
        fraction = exp.Sub(this=exp.Literal.number(1), expression=fraction)
    return exp.Anonymous(this="quantile_cont", expressions=[ordered.this, fraction])


def _compare_json_as_text(node: exp.Binary) -> None:
    """`attributes->'k' = 'v'` compares the JSON value with text in DataFusion; DuckDB wants `->>`."""
    for side, other in (("this", node.expression), ("expression", node.this)):
        operand = node.args[side]
        if isinstance(operand, exp.JSONExtract) and isinstance(other, exp.Literal) and other.is_string:
            node.set(side, exp.JSONExtractScalar(this=operand.this, expression=operand.expression))


def _time_bucket(args: list[exp.Expression]) -> exp.Expression:
    if len(args) < 2:
        raise QueryError("time_bucket(interval, timestamp) needs two arguments")
    width = args[0]
    if isinstance(width, exp.Literal) and width.is_string:
        width = exp.cast(width, exp.DataType.build("INTERVAL"))
    return exp.Anonymous(this="time_bucket", expressions=[width, *args[1:]])


def _date_bin(args: list[exp.Expression]) -> exp.Expression:
    if len(args) == 2:
        args = [
            *args,
            exp.cast(exp.Literal.string("1970-01-01 00:00:00+00"), exp.DataType.build("TIMESTAMPTZ")),
        ]
    return _time_bucket(args)


def _approx_percentile(args: list[exp.Expression]) -> exp.Expression:
    if len(args) < 2:
        raise QueryError("approx_percentile_cont(expression, percentile) needs two arguments")
    return exp.Anonymous(this="quantile_cont", expressions=args[:2])


_FUNCTION_REWRITES = {
    "approx_percentile_cont": _approx_percentile,
    "approx_median": lambda args: exp.Anonymous(this="median", expressions=args),
    "time_bucket": _time_bucket,
    "date_bin": _date_bin,
    "json_get": lambda args: _json_getter(args, as_text=False),
    "json_get_json": lambda args: _json_getter(args, as_text=False),
    "json_get_str": lambda args: _json_getter(args, as_text=True),
    "json_as_text": lambda args: _json_getter(args, as_text=True),
    "json_get_int": lambda args: _json_getter(args, as_text=True, cast="BIGINT"),
    "json_get_float": lambda args: _json_getter(args, as_text=True, cast="DOUBLE"),
    "json_get_bool": lambda args: _json_getter(args, as_text=True, cast="BOOLEAN"),
    "json_contains": lambda args: exp.Anonymous(
        this="json_exists", expressions=[args[0], _json_path(args[1:])]
    ),
    "json_length": lambda args: exp.Anonymous(
        this="json_array_length", expressions=[args[0], _json_path(args[1:])] if len(args) > 1 else args
    ),
    "arrow_typeof": lambda args: exp.Anonymous(this="typeof", expressions=args),
}


def _rewrite_levels(node: exp.Expression) -> exp.Expression:
    """`level >= 'error'`, `level IN ('warn', 'error')`, `level BETWEEN 'info' AND 'error'` → numbers."""
    if isinstance(node, exp.EQ | exp.NEQ | exp.GT | exp.GTE | exp.LT | exp.LTE):
        if _is_level(node.this):
            node.set("expression", _level_literal(node.expression))
        elif _is_level(node.expression):
            node.set("this", _level_literal(node.this))
    elif isinstance(node, exp.In) and _is_level(node.this):
        node.set("expressions", [_level_literal(e) for e in node.expressions])
    elif isinstance(node, exp.Between) and _is_level(node.this):
        node.set("low", _level_literal(node.args["low"]))
        node.set("high", _level_literal(node.args["high"]))
    return node


def _is_level(node: exp.Expression) -> bool:
    return isinstance(node, exp.Column) and node.name.lower() == "level"


def _level_literal(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Literal) and node.is_string:
        number = LEVELS.get(node.this.lower())
        if number is None:
            raise QueryError(f"Unknown level name '{node.this}'; use one of {', '.join(LEVELS)}")
        return exp.Literal.number(number)
    return node


_INTEGER_TYPES = {
    exp.DataType.Type.INT,
    exp.DataType.Type.BIGINT,
    exp.DataType.Type.SMALLINT,
    exp.DataType.Type.TINYINT,
}
_INTEGER_COLUMNS = frozenset(
    f.name for schema in (RECORDS_SCHEMA, METRICS_SCHEMA) for f in schema if pa.types.is_integer(f.type)
)


def _integer_arithmetic(node: exp.Expression) -> exp.Expression:
    """DataFusion divides integers as integers (`count(*) / 2` is an integer; DuckDB's `/` is not) and sums
    them as Int64 (DuckDB: HUGEINT, which would come out as a decimal)."""
    if isinstance(node, exp.Div) and _is_integer(node.this) and _is_integer(node.expression):
        return exp.IntDiv(this=node.this, expression=node.expression)
    if isinstance(node, exp.Sum) and _is_integer(node.this):
        return exp.cast(node.copy(), exp.DataType.build("BIGINT"))
    return node


def _is_integer(node: exp.Expression) -> bool:
    if isinstance(node, exp.Paren | exp.Neg | exp.Filter):
        return _is_integer(node.this)
    if isinstance(node, exp.Literal):
        return not node.is_string and node.is_int
    if isinstance(node, exp.Count):
        return True
    if isinstance(node, exp.Cast):
        return node.to.this in _INTEGER_TYPES
    if isinstance(node, exp.Column):
        return node.name in _INTEGER_COLUMNS
    if isinstance(node, exp.Sum | exp.Min | exp.Max):
        return _is_integer(node.this)
    if isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Mod | exp.IntDiv):
        return _is_integer(node.this) and _is_integer(node.expression)
    return False


def _in_timezone(node: exp.Expression, timezone: str) -> exp.Expression:
    """date_trunc / time_bucket follow the query's timezone, as with DataFusion's session time zone."""
    if isinstance(node, exp.TimestampTrunc | exp.DateTrunc):
        return _wrap_local(node, "this", timezone)
    if (
        isinstance(node, exp.Anonymous)
        and str(node.this).lower() == "time_bucket"
        and len(node.expressions) >= 2
    ):
        local = exp.Anonymous(
            this="timezone", expressions=[exp.Literal.string(timezone), node.expressions[1]]
        )
        node.set("expressions", [node.expressions[0], local, *node.expressions[2:]])
        return exp.Anonymous(this="timezone", expressions=[exp.Literal.string(timezone), node])
    return node


def _wrap_local(node: exp.Expression, arg: str, timezone: str) -> exp.Expression:
    inner = node.args[arg]
    node.set(arg, exp.Anonymous(this="timezone", expressions=[exp.Literal.string(timezone), inner]))
    return exp.Anonymous(this="timezone", expressions=[exp.Literal.string(timezone), node])


# --- results


def _result(table: pa.Table, duckdb_types: list[str], zone: tzinfo, not_null: set[str]) -> QueryResult:
    json_columns = {i for i, t in enumerate(duckdb_types) if t == "JSON"}
    columns = [
        ColumnInfo(f.name, "Utf8" if i in json_columns else arrow_datatype(f.type), f.name not in not_null)
        for i, f in enumerate(table.schema)
    ]
    names = table.column_names
    converters = [
        _json_value if i in json_columns else _converter(f.type, zone) for i, f in enumerate(table.schema)
    ]
    data = [table.column(i).to_pylist() for i in range(table.num_columns)]
    rows = [
        {name: convert(values[r]) for name, convert, values in zip(names, converters, data, strict=True)}
        for r in range(table.num_rows)
    ]
    return QueryResult(columns=columns, rows=rows, arrow=table)


def _json_value(text: str | None) -> Any:
    """A JSON value taken with `->`: scalars as values (as DataFusion's json_get union), else text."""
    if text is None:
        return None
    value = json.loads(text)
    return text if isinstance(value, dict | list) else value


def _converter(arrow_type: pa.DataType, zone: tzinfo) -> Any:
    if pa.types.is_timestamp(arrow_type):
        return lambda v: None if v is None else _iso(v, zone)
    return _jsonable


def _iso(value: datetime, zone: tzinfo) -> str:
    if value.tzinfo is None:
        return value.isoformat(timespec="microseconds")
    text = value.astimezone(zone).isoformat(timespec="microseconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return _iso(value, UTC)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, pa.MonthDayNano):
        return f"{value.months} mons {value.days} days {value.nanoseconds / 1e9:.9f} secs"
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def arrow_datatype(arrow_type: pa.DataType) -> str:
    """Arrow type → the name Logfire's query API reports (arrow-rs Debug formatting)."""
    simple = {
        pa.string(): "Utf8",
        pa.large_string(): "LargeUtf8",
        pa.int8(): "Int8",
        pa.int16(): "Int16",
        pa.int32(): "Int32",
        pa.int64(): "Int64",
        pa.uint8(): "UInt8",
        pa.uint16(): "UInt16",
        pa.uint32(): "UInt32",
        pa.uint64(): "UInt64",
        pa.float32(): "Float32",
        pa.float64(): "Float64",
        pa.bool_(): "Boolean",
        pa.date32(): "Date32",
        pa.date64(): "Date64",
        pa.null(): "Null",
        pa.binary(): "Binary",
        pa.month_day_nano_interval(): "Interval(MonthDayNano)",
    }
    if arrow_type in simple:
        return simple[arrow_type]
    if pa.types.is_string_view(arrow_type):
        return "Utf8View"
    if pa.types.is_timestamp(arrow_type):
        zone = 'Some("UTC")' if arrow_type.tz else "None"
        return f"Timestamp({_unit(arrow_type.unit)}, {zone})"
    if pa.types.is_duration(arrow_type):
        return f"Duration({_unit(arrow_type.unit)})"
    if pa.types.is_decimal(arrow_type):
        return f"Decimal128({arrow_type.precision}, {arrow_type.scale})"
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return f"List({arrow_datatype(arrow_type.value_type)})"
    if pa.types.is_struct(arrow_type):
        return "Struct(" + ", ".join(f"{f.name}: {arrow_datatype(f.type)}" for f in arrow_type) + ")"
    return str(arrow_type)


def _unit(unit: str) -> str:
    return {"s": "Second", "ms": "Millisecond", "us": "Microsecond", "ns": "Nanosecond"}[unit]


def _not_null_outputs(tree: exp.Expression) -> set[str]:
    """Output columns known NOT NULL: bare NOT NULL columns of `records`, and count(...)."""
    if not isinstance(tree, exp.Select):
        return set()
    not_null = {f.name for f in RECORDS_SCHEMA if not f.nullable}
    outputs = set()
    from_ = tree.args.get("from") or tree.args.get("from_")
    from_records = (
        from_ is not None and isinstance(from_.this, exp.Table) and from_.this.name.lower() == "records"
    )
    for projection in tree.expressions:
        if isinstance(projection, exp.Star) and from_records and not tree.args.get("joins"):
            outputs |= not_null
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        if isinstance(inner, exp.Count) or (isinstance(inner, exp.Column) and inner.name in not_null):
            outputs.add(projection.alias_or_name)
    return outputs


def _zone(timezone: str | None) -> tzinfo:
    if not timezone:
        return UTC
    try:
        return ZoneInfo(timezone)
    except (ValueError, KeyError, OSError):
        raise QueryError(f"Unknown timezone '{timezone}'") from None


def _engine_message(error: duckdb.Error) -> str:
    return str(error).replace(_RECORDS_FULL, "records").replace(_METRICS, "metrics")


def _duckdb_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMPTZ"
    if pa.types.is_list(arrow_type):
        return f"{_duckdb_type(arrow_type.value_type)}[]"
    return {
        pa.string(): "VARCHAR",
        pa.int32(): "INTEGER",
        pa.int64(): "BIGINT",
        pa.float64(): "DOUBLE",
        pa.bool_(): "BOOLEAN",
        pa.date32(): "DATE",
    }[arrow_type]


def _postgres_type(duckdb_type: str) -> str:
    reverse = {v: k for k, v in _SQL_TYPES.items()}
    reverse.update({"TIMESTAMP WITH TIME ZONE": "TIMESTAMP WITH TIME ZONE"})
    return reverse.get(duckdb_type, duckdb_type)


_MACROS = """
CREATE MACRO level_num(name) AS CASE lower(name)
    WHEN 'trace' THEN 1 WHEN 'debug' THEN 5 WHEN 'info' THEN 9 WHEN 'notice' THEN 10
    WHEN 'warn' THEN 13 WHEN 'warning' THEN 13 WHEN 'error' THEN 17 WHEN 'fatal' THEN 21 END;
CREATE MACRO level_name(number) AS CASE
    WHEN number >= 21 THEN 'fatal' WHEN number >= 17 THEN 'error' WHEN number >= 13 THEN 'warn'
    WHEN number >= 10 THEN 'notice' WHEN number >= 9 THEN 'info' WHEN number >= 5 THEN 'debug'
    WHEN number >= 1 THEN 'trace' END;
"""
_LOCKDOWN = (
    "SET python_enable_replacements = false",
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    "SET enable_external_access = false",
    "SET lock_configuration = true",
)
