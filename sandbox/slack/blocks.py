"""Block Kit validation as Slack does it: Slack's limits with json-pointer errors, then slack_sdk's models.

Slack answers `invalid_blocks` with `errors` like "must be less than 3001 characters
[json-pointer:/blocks/0/text/text]"; slack_sdk's models are more lenient (unknown elements are dropped,
empty texts pass), so the structural checks here come first and the models run on what passes them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block, BlockElement

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_BLOCKS_TEXT = 13200  # measured by others: `msg_blocks_too_long` past ~13.2k characters of block text

_TEXT_TYPES = ("plain_text", "mrkdwn")
_CHART_TYPES = ("bar", "line", "area", "pie")
_SDK_ERRORS = (SlackObjectFormationError, TypeError, ValueError, KeyError, AttributeError)

FileCheck = Callable[[str], bool]


def validate_blocks(
    blocks: Any,
    *,
    max_blocks: int = MAX_MESSAGE_BLOCKS,
    file_ok: FileCheck | None = None,
    pointer: str = "/blocks",
) -> list[str]:
    """Every problem Slack would report for `blocks`, in Slack's message format; empty when valid."""
    if not isinstance(blocks, list):
        return [f"must be a valid array [json-pointer:{pointer}]"]
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"no more than {max_blocks} items allowed [json-pointer:{pointer}]")
    block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        path = f"{pointer}/{index}"
        block_errors = _check_block(block, path, file_ok) + _duplicate_action_ids(block, path)
        if not block_errors:
            block_errors = _check_with_sdk(block, path)
        if isinstance(block, dict) and isinstance(block.get("block_id"), str):
            if block["block_id"] in block_ids:
                block_errors.append(f"duplicate block_id [json-pointer:{path}/block_id]")
            block_ids.add(block["block_id"])
        errors.extend(block_errors)
    return errors


def blocks_text_length(blocks: Any) -> int:
    """Characters of text carried by the blocks (what `msg_blocks_too_long` counts)."""
    return sum(len(value) for key, value, _ in _walk(blocks, "") if key == "text" and isinstance(value, str))


def _walk(node: Any, path: str) -> Iterator[tuple[str, Any, str]]:
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        child = f"{path}/{key}"
        yield str(key), value, child
        yield from _walk(value, child)


def _duplicate_action_ids(block: Any, pointer: str) -> list[str]:
    """Slack requires action_ids to be unique within a block."""
    seen: set[str] = set()
    errors = []
    for key, value, path in _walk(block, pointer):
        if key == "action_id" and isinstance(value, str):
            if value in seen:
                errors.append(f"duplicate action_id: {value} [json-pointer:{path}]")
            seen.add(value)
    return errors


def _check_block(block: Any, path: str, file_ok: FileCheck | None) -> list[str]:
    if not isinstance(block, dict):
        return [f"must be an object [json-pointer:{path}]"]
    block_type = block.get("type")
    if not isinstance(block_type, str):
        return [f"missing required field: type [json-pointer:{path}]"]
    errors = _max_length(block, "block_id", 255, path)
    check = _BLOCK_CHECKS.get(block_type)
    if check is None and block_type not in _SDK_ONLY_BLOCKS:
        return [*errors, f"unsupported type: {block_type} [json-pointer:{path}/type]"]
    if check is not None:
        errors.extend(check(block, path, file_ok))
    return errors


def _check_with_sdk(block: dict[str, Any], path: str) -> list[str]:
    if block["type"] == "data_visualization":
        return []
    try:
        parsed = Block.parse(copy.deepcopy(block))
        if parsed is None:
            return [f"unsupported type: {block['type']} [json-pointer:{path}/type]"]
        parsed.to_dict()
    except _SDK_ERRORS as e:
        return [f"{e} [json-pointer:{path}]"]
    errors = _additional_properties(block, parsed.attributes, path)
    elements = block.get("elements") if block["type"] in ("actions", "context") else []
    for i, element in enumerate(elements or []):
        errors += _element_properties(element, f"{path}/elements/{i}")
    if "accessory" in block:
        errors += _element_properties(block["accessory"], f"{path}/accessory")
    return errors


def _additional_properties(node: dict[str, Any], known: set[str], path: str) -> list[str]:
    """Slack's schemas allow no properties beyond the documented ones (slack_sdk's models list them)."""
    return [f"invalid additional property: {key} [json-pointer:{path}]" for key in sorted(set(node) - known)]


def _element_properties(element: dict[str, Any], path: str) -> list[str]:
    parsed = BlockElement.parse(copy.deepcopy(element))
    return _additional_properties(element, parsed.attributes, path) if parsed is not None else []


def _max_length(node: dict[str, Any], key: str, limit: int, path: str) -> list[str]:
    value = node.get(key)
    if isinstance(value, str) and len(value) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{path}/{key}]"]
    return []


def _text_object(
    node: Any, path: str, *, limit: int, plain_only: bool = False, required: bool = True
) -> list[str]:
    if node is None:
        return [f"missing required field: text [json-pointer:{path}]"] if required else []
    if not isinstance(node, dict):
        return [f"must be a text object [json-pointer:{path}]"]
    allowed = ("plain_text",) if plain_only else _TEXT_TYPES
    if node.get("type") not in allowed:
        return [f"must be one of {', '.join(allowed)} [json-pointer:{path}/type]"]
    text = node.get("text")
    if not isinstance(text, str) or not text:
        return [f"must be more than 0 characters [json-pointer:{path}/text]"]
    return _max_length(node, "text", limit, path)


def _count(items: Any, path: str, *, low: int, high: int) -> list[str]:
    if not isinstance(items, list):
        return [f"must be a valid array [json-pointer:{path}]"]
    if len(items) < low:
        return [f"must provide at least {low} items [json-pointer:{path}]"]
    if len(items) > high:
        return [f"no more than {high} items allowed [json-pointer:{path}]"]
    return []


def _element(element: Any, path: str) -> list[str]:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        return [f"missing required field: type [json-pointer:{path}]"]
    errors = _max_length(element, "action_id", 255, path)
    if element["type"] == "button":
        errors += _text_object(element.get("text"), f"{path}/text", limit=75, plain_only=True)
        errors += _max_length(element, "value", 2000, path) + _max_length(element, "url", 3000, path)
        if element.get("style") not in (None, "primary", "danger"):
            errors.append(f"must be one of primary, danger [json-pointer:{path}/style]")
    elif BlockElement.parse(copy.copy(element)) is None:
        errors.append(f"unsupported type: {element['type']} [json-pointer:{path}/type]")
    return errors


def _section(block: dict[str, Any], path: str, _: FileCheck | None) -> list[str]:
    errors: list[str] = []
    if block.get("text") is None and not block.get("fields"):
        return [f"must provide either text or fields [json-pointer:{path}]"]
    errors += _text_object(block.get("text"), f"{path}/text", limit=3000, required=False)
    if "fields" in block:
        errors += _count(block["fields"], f"{path}/fields", low=1, high=10)
        for i, field in enumerate(block["fields"] if isinstance(block["fields"], list) else []):
            errors += _text_object(field, f"{path}/fields/{i}", limit=2000)
    if "accessory" in block:
        errors += _element(block["accessory"], f"{path}/accessory")
    return errors


def _header(block: dict[str, Any], path: str, _: FileCheck | None) -> list[str]:
    return _text_object(block.get("text"), f"{path}/text", limit=150, plain_only=True)


def _markdown(block: dict[str, Any], path: str, _: FileCheck | None) -> list[str]:
    text = block.get("text")
    if not isinstance(text, str) or not text:
        return [f"must be more than 0 characters [json-pointer:{path}/text]"]
    return _max_length(block, "text", 12000, path)


def _context(block: dict[str, Any], path: str, _: FileCheck | None) -> list[str]:
    elements = block.get("elements")
    errors = _count(elements, f"{path}/elements", low=1, high=10)
    for i, element in enumerate(elements if isinstance(elements, list) else []):
        element_path = f"{path}/elements/{i}"
        if isinstance(element, dict) and element.get("type") == "image":
            errors += (
                []
                if element.get("alt_text")
                else [f"missing required field: alt_text [json-pointer:{element_path}]"]
            )
        else:
            errors += _text_object(element, element_path, limit=3000)
    return errors


def _actions(block: dict[str, Any], path: str, _: FileCheck | None) -> list[str]:
    elements = block.get("elements")
    errors = _count(elements, f"{path}/elements", low=1, high=25)
    for i, element in enumerate(elements if isinstance(elements, list) else []):
        errors += _element(element, f"{path}/elements/{i}")
    return errors


def _image(block: dict[str, Any], path: str, file_ok: FileCheck | None) -> list[str]:
    errors = [] if block.get("alt_text") else [f"missing required field: alt_text [json-pointer:{path}]"]
    errors += _max_length(block, "alt_text", 2000, path)
    slack_file = block.get("slack_file")
    if (block.get("image_url") is None) == (slack_file is None):
        return [*errors, f"must provide exactly one of image_url, slack_file [json-pointer:{path}]"]
    if (
        isinstance(slack_file, dict)
        and "id" in slack_file
        and file_ok is not None
        and not file_ok(slack_file["id"])
    ):
        errors.append(f"invalid slack file [json-pointer:{path}/slack_file]")
    return errors


def _data_visualization(block: dict[str, Any], path: str, _: FileCheck | None) -> list[str]:
    title = block.get("title")
    errors = (
        [] if isinstance(title, str) and title else [f"missing required field: title [json-pointer:{path}]"]
    )
    errors += _max_length(block, "title", 50, path)
    chart = block.get("chart")
    if not isinstance(chart, dict) or chart.get("type") not in _CHART_TYPES:
        return [*errors, f"must be one of {', '.join(_CHART_TYPES)} [json-pointer:{path}/chart/type]"]
    if chart["type"] == "pie":
        return errors + _count(chart.get("segments"), f"{path}/chart/segments", low=1, high=6)
    errors += _count(chart.get("series"), f"{path}/chart/series", low=1, high=6)
    categories = (chart.get("axis_config") or {}).get("categories")
    if not isinstance(categories, list) or not categories:
        return [*errors, f"missing required field: categories [json-pointer:{path}/chart/axis_config]"]
    for i, series in enumerate(chart.get("series") if isinstance(chart.get("series"), list) else []):
        labels = {point.get("label") for point in series.get("data", []) if isinstance(point, dict)}
        if not set(categories) <= labels:
            errors.append(f"series must cover every category [json-pointer:{path}/chart/series/{i}/data]")
    return errors


_BLOCK_CHECKS: dict[str, Callable[[dict[str, Any], str, FileCheck | None], list[str]]] = {
    "section": _section,
    "header": _header,
    "markdown": _markdown,
    "context": _context,
    "actions": _actions,
    "image": _image,
    "data_visualization": _data_visualization,
}
_SDK_ONLY_BLOCKS = {
    "divider",
    "context_actions",
    "input",
    "file",
    "call",
    "video",
    "rich_text",
    "table",
    "task_card",
    "plan",
    "alert",
    "card",
    "container",
    "carousel",
    "auth_provider",
}
