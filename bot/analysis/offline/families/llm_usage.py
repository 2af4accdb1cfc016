"""LLM token usage and cost: rows carrying `gen_ai.request.model`, their `gen_ai.usage.*_tokens` and
`operation.cost` (USD, set when the call was priced) summed in total and per model. A request is a trace:
the average cost per request is the cost over the distinct `trace_id`s (Logfire's LLM cost cookbook)."""

from __future__ import annotations

from typing import Any

from bot.analysis.offline import formatting as fmt
from bot.analysis.offline.draft import Draft
from bot.analysis.offline.intent import Intent
from bot.analysis.offline.querying import Logfire
from bot.analysis.offline.scope import Scope
from bot.analysis.types import KeyNumber
from bot.charts import ChartSpec
from bot.charts.columns import as_number

MODELS_LIMIT = 50
SHOWN_IN_TEXT = 6
MODEL = "attributes->>'gen_ai.request.model'"
COST = "(attributes->'operation.cost')::numeric"
HAS_MODEL = "attributes ? 'gen_ai.request.model'"
_MEASURES = (
    "count(*) AS llm_calls, count(DISTINCT trace_id) AS requests, "
    "sum((attributes->>'gen_ai.usage.input_tokens')::bigint) AS input_tokens, "
    "sum((attributes->>'gen_ai.usage.output_tokens')::bigint) AS output_tokens, "
    f"sum({COST}) AS cost_usd, "
    f"sum({COST}) / nullif(count(DISTINCT trace_id), 0) AS avg_cost_per_request"
)


def totals_sql(scope: Scope) -> str:
    return f"SELECT {_MEASURES} {scope.records(HAS_MODEL)} LIMIT 1"


def per_model_sql(scope: Scope) -> str:
    return (
        f"SELECT {MODEL} AS model, {_MEASURES} "
        f"{scope.records(HAS_MODEL)} "
        f"GROUP BY model ORDER BY cost_usd DESC NULLS LAST, model LIMIT {MODELS_LIMIT}"
    )


async def answer(intent: Intent, scope: Scope, logfire: Logfire) -> Draft:
    totals_table = await logfire.rows(totals_sql(scope), scope.window)
    totals = totals_table.records()[0] if totals_table.rows else {}
    if not _number(totals.get("llm_calls")):
        return Draft(f"No LLM calls (spans with `gen_ai.request.model`){scope.qualifier}.")
    models_table = await logfire.rows(per_model_sql(scope), scope.window)
    models = models_table.records()
    focus = intent.focus or "cost"
    details = [_model_line(row) for row in models[:SHOWN_IN_TEXT]]
    if len(models) > SHOWN_IN_TEXT:
        details.append(f"… {len(models) - SHOWN_IN_TEXT} more models in the chart")
    key_numbers = [
        KeyNumber("Average cost per request", fmt.usd(totals["avg_cost_per_request"])),
        KeyNumber("Total cost", fmt.usd(totals["cost_usd"])),
        KeyNumber("Requests (traces)", fmt.count(totals["requests"])),
        KeyNumber("LLM calls", fmt.count(totals["llm_calls"])),
        KeyNumber("Input tokens", fmt.count(totals["input_tokens"])),
        KeyNumber("Output tokens", fmt.count(totals["output_tokens"])),
    ]
    if focus == "avg_cost":
        chart = _chart(scope, totals_table.result_id, "big_number", "Average LLM cost per request", None,
                       ["avg_cost_per_request"], "usd")  # fmt: skip
    elif focus == "tokens":
        chart = _chart(scope, models_table.result_id, "bar", "LLM tokens by model", "model",
                       ["input_tokens", "output_tokens"], "tokens")  # fmt: skip
    else:
        chart = _chart(scope, models_table.result_id, "bar", "LLM cost by model", "model",
                       ["cost_usd"], "usd")  # fmt: skip
    notes = [
        "A request is a trace (distinct `trace_id`); costs are `operation.cost` as recorded, in USD.",
    ]
    return Draft(_answer_line(focus, totals, models, scope), details, key_numbers, chart, notes)


def _answer_line(focus: str, totals: dict[str, Any], models: list[dict[str, Any]], scope: Scope) -> str:
    llm_calls, requests = int(_number(totals["llm_calls"])), int(_number(totals["requests"]))
    calls = f"{fmt.plural(llm_calls, 'LLM call')} in {fmt.plural(requests, 'request')}"
    if focus == "avg_cost":
        return (
            f"The average LLM cost per request{scope.qualifier} was "
            f"*{fmt.usd(totals['avg_cost_per_request'])}* "
            f"({fmt.usd(totals['cost_usd'])} over {calls})."
        )
    if focus == "tokens":
        return (
            f"LLM calls{scope.qualifier} used *{fmt.count(totals['input_tokens'])}* input and "
            f"*{fmt.count(totals['output_tokens'])}* output tokens ({calls})."
        )
    line = f"LLM calls{scope.qualifier} cost *{fmt.usd(totals['cost_usd'])}* in total ({calls})."
    if models:
        top = models[0]
        line += f" Most of it: {fmt.code(top['model'])} with {fmt.usd(top['cost_usd'])}."
    return line


def _model_line(row: dict[str, Any]) -> str:
    return (
        f"{fmt.code(row['model'])}: {fmt.usd(row['cost_usd'])}, {fmt.count(row['llm_calls'])} calls, "
        f"{fmt.count(row['input_tokens'])} in / {fmt.count(row['output_tokens'])} out tokens, "
        f"{fmt.usd(row['avg_cost_per_request'])} per request"
    )


def _chart(
    scope: Scope, result_id: str, kind: str, title: str, x: str | None, y: list[str], unit: str
) -> ChartSpec:
    return ChartSpec.model_validate(
        {
            "kind": kind,
            "title": f"{title}{scope.service_title}",
            "time_range": scope.window.label,
            "result_id": result_id,
            "x": x,
            "y": y,
            "unit": unit,
        }
    )


def _number(value: Any) -> float:
    number = as_number(value)
    return 0.0 if number is None else float(number)
