"""The tools Claude is given: the workspace's allowed Logfire tools, as the server describes them, plus our
`render_chart` and `answer`; and the check of the inputs the model sends against each tool's schema.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from bot.analysis.claude.prompts import CACHED
from bot.charts import TOOL_NAME as CHART_TOOL
from bot.charts import chart_tool
from bot.mcp_client.catalog import GatedTool

log = logging.getLogger(__name__)

ANSWER_TOOL = "answer"
LOCAL_TOOLS = frozenset({CHART_TOOL, ANSWER_TOOL})
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")  # what the Messages API accepts
SUMMARY_MAX = 3_000
KEY_NUMBERS_MAX = 6

ANSWER_DEFINITION: dict[str, Any] = {
    "name": ANSWER_TOOL,
    "description": (
        "Deliver the final answer to the Slack thread; this ends the analysis. Call it once, after you have "
        "the results (in the same turn as render_chart when you chart), never in a turn that calls a "
        "Logfire tool."
    ),
    "input_schema": {
        "type": "object",
        "properties": {
            "summary": {
                "type": "string",
                "minLength": 1,
                "maxLength": SUMMARY_MAX,
                "description": "Slack mrkdwn: the direct answer first, then at most 5 short bullets; "
                "no headings, tables or URLs; at most 1,500 characters.",
            },
            "key_numbers": {
                "type": "array",
                "maxItems": KEY_NUMBERS_MAX,
                "description": "The main figures, taken from the results.",
                "items": {
                    "type": "object",
                    "properties": {
                        "label": {"type": "string", "minLength": 1, "maxLength": 80},
                        "value": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 40,
                            "description": "Formatted, with the unit: '2.41 s', '12,408', '$0.0031'.",
                        },
                    },
                    "required": ["label", "value"],
                    "additionalProperties": False,
                },
            },
            "time_window": {
                "type": "string",
                "maxLength": 80,
                "description": "The window queried, in words: 'last 1 hour (UTC)', 'yesterday (UTC)'.",
            },
        },
        "required": ["summary", "key_numbers", "time_window"],
        "additionalProperties": False,
    },
}


@dataclass(frozen=True)
class ToolSet:
    """The tool definitions of one request and the validators of their inputs, by name."""

    definitions: list[dict[str, Any]]
    validators: dict[str, Draft202012Validator]

    @property
    def names(self) -> list[str]:
        return [definition["name"] for definition in self.definitions]


def tool_set(allowed: list[GatedTool]) -> ToolSet:
    """Allowed Logfire tools (sorted by name, so the cached prefix stays the same), then ours.

    Descriptions and input schemas pass through unchanged. A tool the Messages API would refuse (its name,
    or a schema that is not a JSON-schema object) is left out, since one bad definition fails every request.
    """
    definitions: list[dict[str, Any]] = []
    for gated in sorted(allowed, key=lambda tool: tool.name):
        definition = _definition(gated)
        if definition is not None:
            definitions.append(definition)
    definitions += [chart_tool(), ANSWER_DEFINITION]
    definitions[-1] = {**definitions[-1], "cache_control": CACHED}
    validators = {
        item["name"]: Draft202012Validator(item["input_schema"])
        for item in definitions
        if item["name"] != CHART_TOOL  # parse_spec words its errors for the model
    }
    return ToolSet(definitions, validators)


def input_problem(tools: ToolSet, name: str, arguments: Any) -> str | None:
    """Why the model's input does not fit the tool's schema (None when it fits or there is no schema here:
    the gate answers for undeclared tools, `parse_spec` for charts)."""
    validator = tools.validators.get(name)
    if validator is None:
        return None
    if not isinstance(arguments, dict):
        return f"The input of `{name}` must be a JSON object."
    errors = sorted(validator.iter_errors(arguments), key=lambda error: list(error.path))
    if not errors:
        return None
    problems = "; ".join(_describe(error) for error in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return f"Invalid input for `{name}`: {problems}{more}. Fix the arguments and call it again."


def _definition(gated: GatedTool) -> dict[str, Any] | None:
    tool = gated.tool
    schema = tool.input_schema
    if tool.name in LOCAL_TOOLS or not TOOL_NAME.match(tool.name):
        log.warning("Logfire tool %r left out: its name clashes with ours or the API refuses it", tool.name)
        return None
    if not isinstance(schema, dict) or schema.get("type") != "object" or _top_level_combinator(schema):
        log.warning("Logfire tool %r left out: its input schema is not a plain JSON-schema object", tool.name)
        return None
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError:
        log.warning("Logfire tool %r left out: its input schema is not valid JSON schema", tool.name)
        return None
    definition: dict[str, Any] = {"name": tool.name, "input_schema": schema}
    if tool.description:
        definition["description"] = tool.description
    return definition


def _top_level_combinator(schema: dict[str, Any]) -> bool:
    return any(key in schema for key in ("oneOf", "allOf", "anyOf"))


_LIMITS = {
    "maxItems": "at most {} items",
    "minItems": "at least {} items",
    "maxLength": "at most {} characters",
    "minLength": "at least {} characters",
}


def _describe(error: Any) -> str:
    """One problem, without echoing a long value back (the model has it)."""
    where = "/".join(str(part) for part in error.absolute_path)
    template = _LIMITS.get(error.validator)
    message = template.format(error.validator_value) if template else error.message
    if error.validator == "minLength" and error.validator_value == 1:
        message = "must not be empty"
    if len(message) > 200:
        message = message[:200] + "…"
    return f"{where}: {message}" if where else message
