"""A local stand-in for the Anthropic Messages API, for the tests of the Claude path.

It speaks the wire format the installed `anthropic` SDK reads, over loopback HTTP (127.0.0.1, ephemeral
port): `POST /v1/messages` (non-streaming) and `POST /v1/messages/count_tokens`.

- Requests are checked as the real API checks them, answering the same status, error type and message
  wording (taken from real API answers); paths such as `messages.3.content.0` index the request as sent.
  As the real API does, consecutive messages of the same role count as one turn.
- Answers come from a script the test queues: `Reply` (text and tool_use blocks), `ErrorReply`, or a
  callable that receives the parsed request body and returns (or awaits to) one of those. A request with
  nothing left in the script, or a scripted answer the real model could not give, gets a 500 the SDK does
  not retry, and leaving the `async with` block raises `AssertionError` listing these script problems.
- Usage is deterministic. Every prompt block (a tool definition, a system text block, a message content
  block) costs ceil(characters of its compact JSON without `cache_control` / 4) tokens, at least 1.
  Output costs, per block, ceil(characters / 4) of the text, or of a tool call's name plus compact JSON
  input.
- Prompt caching: the prefix (tools → system → messages) ending at a `cache_control` breakpoint is cached
  under a hash of the model and its blocks when it is at least the model's minimum cacheable length; a
  later request reads the longest cached prefix ending at one of its breakpoints or up to 20 blocks
  before one.
- Every request is recorded (headers with the key redacted, parsed body, status, answer) for assertions.

Left out on purpose: streaming (`stream: true` gets a 400 saying so), cache expiry (call `clear_cache()`),
the hidden tool-use system prompt the real API adds to the token count.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import json
import math
import random
import re
import string
import time
import traceback
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anthropic.types as sdk_types
from aiohttp import web
from jsonschema import Draft202012Validator, SchemaError

API_VERSIONS = frozenset({"2023-01-01", "2023-06-01", "2026-10-21"})
"""Accepted `anthropic-version` values: the API reference's dated versions and what anthropic 2.16 sends."""

TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
MAX_CACHE_BREAKPOINTS = 4
CACHE_LOOKBACK_BLOCKS = 20
STOP_REASONS = frozenset(
    {
        "end_turn",
        "max_tokens",
        "stop_sequence",
        "tool_use",
        "pause_turn",
        "refusal",
        "model_context_window_exceeded",
    }
)

MIN_CACHEABLE_TOKENS: tuple[tuple[str, int], ...] = (
    ("claude-opus-5", 512),
    ("claude-fable-5", 512),
    ("claude-mythos-5", 512),
    ("claude-opus-4-7", 2048),
    ("claude-opus-4-6", 4096),
    ("claude-opus-4-5", 4096),
    ("claude-haiku-4-5", 4096),
    ("claude-3-5-haiku", 2048),
    ("claude-3-haiku", 2048),
)
"""Minimum cacheable prompt length by model prefix (prompt caching docs, "Cache limitations")."""
DEFAULT_MIN_CACHEABLE_TOKENS = 1024  # Sonnet 4.x and 5, Opus 4, 4.1 and 4.8

_BLOCK_PARAMS: dict[str, Any] = {
    "text": sdk_types.TextBlockParam,
    "tool_use": sdk_types.ToolUseBlockParam,
    "tool_result": sdk_types.ToolResultBlockParam,
    "image": sdk_types.ImageBlockParam,
    "document": sdk_types.DocumentBlockParam,
    "thinking": sdk_types.ThinkingBlockParam,
    "redacted_thinking": sdk_types.RedactedThinkingBlockParam,
}
"""Content block types and their fields, as the SDK's request types define them."""

_SECRET_HEADERS = frozenset({"x-api-key", "authorization"})
_ID_ALPHABET = string.ascii_letters + string.digits


# --- The script ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolCall:
    """A tool_use block the scripted model emits (`id` generated as "toolu_01…" when None).

    A name that is not among the request's `tools` is a script error unless `hallucinated=True`: the API only
    guarantees tool names for strict tools, so a test may simulate a model calling a tool it was not given.
    """

    name: str
    input: Mapping[str, Any]
    id: str | None = None
    hallucinated: bool = False


@dataclass(frozen=True)
class Reply:
    """One model turn: text (str) and ToolCall blocks in order.

    `stop_reason` defaults to "tool_use" when a ToolCall is present, else "end_turn". A reply longer than the
    request's `max_tokens` is cut there and stops with "max_tokens", as the real model does.
    """

    content: tuple[str | ToolCall, ...]
    stop_reason: str | None = None
    stop_sequence: str | None = None


@dataclass(frozen=True)
class ErrorReply:
    """An error answer: HTTP status, `error.type`, `error.message`, optional retry-after and other headers.

    `details` becomes `error.details` (e.g. {"error_code": "enforced_spend_limit_reached"}), which the SDK
    reads to pick a narrower exception class.
    """

    status: int
    type: str
    message: str
    retry_after: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    details: Mapping[str, Any] | None = None


Outcome = Reply | ErrorReply
Step = Reply | ErrorReply | Callable[[dict[str, Any]], Outcome | Awaitable[Outcome]]


def text(answer: str, *, stop_reason: str = "end_turn", stop_sequence: str | None = None) -> Reply:
    """A final text answer."""
    return Reply((answer,), stop_reason, stop_sequence)


def tool_use(
    name: str,
    input: Mapping[str, Any],
    *,
    preamble: str | None = None,
    id: str | None = None,
    hallucinated: bool = False,
) -> Reply:
    """One tool call, optionally after a text preamble ("I'll look at the slowest endpoints.")."""
    return tool_uses(ToolCall(name, input, id, hallucinated), preamble=preamble)


def tool_uses(*calls: ToolCall, preamble: str | None = None) -> Reply:
    """Several tool calls in one turn (parallel tool use)."""
    return Reply(((preamble,) if preamble else ()) + calls)


def overloaded(retry_after: str | None = None) -> ErrorReply:
    """529 overloaded_error, as the API answers when it is overloaded for everyone."""
    return ErrorReply(529, "overloaded_error", "Overloaded", retry_after)


def rate_limited(retry_after: str | None = "1") -> ErrorReply:
    """429 rate_limit_error with retry-after, as the API answers when the organization exceeds a limit."""
    message = (
        "This request would exceed the rate limit for your organization of 50 requests per minute. "
        "For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response "
        "headers for current usage. Please reduce the prompt length or the maximum tokens requested, "
        "or try again later."
    )
    return ErrorReply(429, "rate_limit_error", message, retry_after)


def server_error() -> ErrorReply:
    """500 api_error, an unexpected error inside the API."""
    return ErrorReply(500, "api_error", "Internal server error")


# --- Reading request bodies (for callables and assertions) --------------------------------------------------


def tool_names(body: Mapping[str, Any]) -> list[str]:
    """The names of the tools a request body declares, in order."""
    return [tool.get("name") for tool in body.get("tools") or [] if isinstance(tool, dict)]


def tool_results(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The tool_result blocks of the last message of a request body (empty when it is not a user message)."""
    messages = body.get("messages") or []
    if not messages or messages[-1].get("role") != "user" or isinstance(messages[-1].get("content"), str):
        return []
    return [block for block in messages[-1]["content"] if block.get("type") == "tool_result"]


def tool_result_text(block: Mapping[str, Any]) -> str:
    """The text of a tool_result block: its string content, or its text blocks joined by newlines."""
    content = block.get("content") or ""
    if isinstance(content, str):
        return content
    return "\n".join(item["text"] for item in content if item.get("type") == "text")


def cache_breakpoints(body: Mapping[str, Any]) -> list[str]:
    """Where a request body places cache breakpoints, as API paths in prefix order.

    For example ["tools.5", "system.0", "messages.2.content.1"]; top-level automatic caching shows as the path
    of the block it lands on.
    """
    blocks = _prompt_blocks(body)
    return [blocks[position].path for position, _ in _breakpoints(body, blocks)]


def estimate_tokens(body: Mapping[str, Any]) -> int:
    """The input tokens of a request body under the stand-in's approximation (see the module docstring)."""
    return sum(block.tokens for block in _prompt_blocks(body))


# --- Recording ----------------------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    """One request as received, and what the stand-in answered."""

    path: str
    headers: dict[str, str]
    """Lower-case names; the values of x-api-key and authorization are replaced by "[redacted]"."""
    body: Any
    """The parsed JSON body (None when it was not JSON)."""
    received_at: float
    """time.monotonic() on arrival."""
    status: int = 0
    response: Any = None
    """The JSON answered: a Message, a token count or an error."""


# --- The server ---------------------------------------------------------------------------------------------


class AnthropicStandIn:
    """The stand-in server: `async with AnthropicStandIn() as api:` then point the SDK at `api.base_url`."""

    def __init__(
        self,
        *,
        api_key: str = "test-key",
        script: Iterable[Step] = (),
        min_cacheable_tokens: int | None = None,
        seed: int = 0,
    ) -> None:
        self.api_key = api_key
        self.base_url = ""
        self.requests: list[RecordedRequest] = []
        self.script_errors: list[str] = []
        self._script: deque[Step] = deque(script)
        self._min_cacheable_tokens = min_cacheable_tokens
        self._cache: dict[str, int] = {}
        self._random = random.Random(seed)
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> AnthropicStandIn:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_post("/v1/messages", self._create_message)
        app.router.add_post("/v1/messages/count_tokens", self._count_tokens)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if exc_type is None and self.script_errors:
            raise AssertionError("Anthropic stand-in script problems:\n- " + "\n- ".join(self.script_errors))

    # Script and assertions

    def queue(self, *steps: Step) -> None:
        """Append answers to the script, consumed one per request to /v1/messages (SDK retries included)."""
        self._script.extend(steps)

    @property
    def pending(self) -> int:
        """How many scripted answers are left."""
        return len(self._script)

    @property
    def message_requests(self) -> list[RecordedRequest]:
        """The requests to /v1/messages, in arrival order."""
        return [record for record in self.requests if record.path == "/v1/messages"]

    @property
    def last_request(self) -> RecordedRequest:
        """The last request to /v1/messages."""
        records = self.message_requests
        if not records:
            raise AssertionError("the Anthropic stand-in received no request to /v1/messages")
        return records[-1]

    @property
    def rejections(self) -> list[RecordedRequest]:
        """The requests refused with a 4xx (the real API would have refused them too)."""
        return [record for record in self.requests if 400 <= record.status < 500]

    def tool_names_sent(self, request: RecordedRequest | Mapping[str, Any] | None = None) -> list[str]:
        """The tool names a request declared (default: the last request to /v1/messages)."""
        return tool_names(self._body_of(request))

    def cache_breakpoints(self, request: RecordedRequest | Mapping[str, Any] | None = None) -> list[str]:
        """The cache breakpoints of a request, as API paths (default: the last request to /v1/messages)."""
        return cache_breakpoints(self._body_of(request))

    def total_usage(self) -> dict[str, int]:
        """The usage of every successful /v1/messages answer, summed field by field."""
        keys = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
        answered = [record.response["usage"] for record in self.message_requests if record.status == 200]
        return {key: sum(usage[key] for usage in answered) for key in keys}

    def clear_cache(self) -> None:
        """Forget every cached prefix (as if their TTL had passed)."""
        self._cache.clear()

    def _body_of(self, request: RecordedRequest | Mapping[str, Any] | None) -> Mapping[str, Any]:
        if request is None:
            return self.last_request.body
        return request.body if isinstance(request, RecordedRequest) else request

    # HTTP handlers

    async def _create_message(self, request: web.Request) -> web.Response:
        record = await self._record(request)
        try:
            body = self._admit(request, record, creating=True)
        except _Refused as refusal:
            return self._error(record, refusal.reply)
        number = next(n for n, seen in enumerate(self.message_requests, 1) if seen is record)
        outcome = await self._next_outcome(body, number)
        if isinstance(outcome, ErrorReply):
            return self._error(record, outcome)
        problems = _reply_problems(outcome, body)
        if problems:
            return self._error(record, self._script_error(f"request {number}: " + "; ".join(problems)))
        return self._respond(record, 200, self._message(body, outcome))

    async def _count_tokens(self, request: web.Request) -> web.Response:
        record = await self._record(request)
        try:
            body = self._admit(request, record, creating=False)
        except _Refused as refusal:
            return self._error(record, refusal.reply)
        return self._respond(record, 200, {"input_tokens": estimate_tokens(body)})

    async def _not_found(self, request: web.Request) -> web.Response:
        record = await self._record(request)
        return self._error(record, ErrorReply(404, "not_found_error", "Not Found"))

    async def _record(self, request: web.Request) -> RecordedRequest:
        headers = {
            name.lower(): "[redacted]" if name.lower() in _SECRET_HEADERS else value
            for name, value in request.headers.items()
        }
        record = RecordedRequest(request.path, headers, None, time.monotonic())
        self.requests.append(record)
        try:
            record.body = json.loads(await request.read())
        except web.HTTPRequestEntityTooLarge:
            record.status = 413
        except ValueError:
            record.body = None
        return record

    def _admit(self, request: web.Request, record: RecordedRequest, *, creating: bool) -> dict[str, Any]:
        """Check headers and body as the real API does; return the body or raise _Refused."""
        if record.status == 413:
            raise _Refused(413, "request_too_large", "Request exceeds the maximum allowed number of bytes.")
        key = request.headers.get("x-api-key") or _bearer(request.headers.get("authorization", ""))
        if not key:
            raise _Refused(401, "authentication_error", "x-api-key header is required")
        if key != self.api_key:
            raise _Refused(401, "authentication_error", "invalid x-api-key")
        version = request.headers.get("anthropic-version")
        if not version:
            raise _invalid("anthropic-version: header is required")
        if version not in API_VERSIONS:
            raise _invalid(f'anthropic-version: "{version}" is not a valid version')
        if record.body is None:
            raise _invalid("There was an error parsing the body: the request body is not valid JSON")
        _validate(record.body, creating=creating)
        if creating and record.body.get("stream"):
            raise _invalid(
                "stream: the Anthropic stand-in answers only non-streaming requests "
                "(stream: true is not implemented)"
            )
        return record.body

    async def _next_outcome(self, body: dict[str, Any], number: int) -> Outcome:
        if not self._script:
            return self._script_error(
                f"request {number} to /v1/messages found the script empty; queue an answer with api.queue()"
            )
        step = self._script.popleft()
        try:
            outcome = step(copy.deepcopy(body)) if callable(step) else step
            if inspect.isawaitable(outcome):
                outcome = await outcome
        except Exception:
            return self._script_error(
                f"request {number}: the scripted callable raised\n{traceback.format_exc()}"
            )
        if not isinstance(outcome, Reply | ErrorReply):
            return self._script_error(
                f"request {number}: the script gave {outcome!r}, not a Reply or ErrorReply"
            )
        return outcome

    def _script_error(self, problem: str) -> ErrorReply:
        self.script_errors.append(problem)
        message = f"Anthropic stand-in script error: {problem}"
        return ErrorReply(500, "api_error", message, headers={"x-should-retry": "false"})

    # Answers

    def _message(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        content, output_tokens, cut = self._content(reply, body["max_tokens"])
        has_calls = any(isinstance(item, ToolCall) for item in reply.content)
        stop_reason = "max_tokens" if cut else reply.stop_reason or ("tool_use" if has_calls else "end_turn")
        return {
            "id": self._new_id("msg_01", 22),
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": reply.stop_sequence if stop_reason == "stop_sequence" else None,
            "usage": self._usage(body, output_tokens),
        }

    def _content(self, reply: Reply, max_tokens: int) -> tuple[list[dict[str, Any]], int, bool]:
        """The content blocks, their output tokens, and whether `max_tokens` cut them."""
        blocks: list[dict[str, Any]] = []
        used = 0
        for item in reply.content:
            if isinstance(item, str):
                block: dict[str, Any] = {"type": "text", "text": item}
                cost = _tokens(len(item))
            else:
                block = {"type": "tool_use", "id": item.id or self._new_id("toolu_01", 22), "name": item.name}
                block["input"] = dict(item.input)
                cost = _tokens(len(item.name) + len(_compact(block["input"])))
            if used + cost > max_tokens:
                room = max_tokens - used
                if isinstance(item, str) and room > 0:
                    blocks.append({"type": "text", "text": item[: room * 4]})
                return blocks, max_tokens, True
            blocks.append(block)
            used += cost
        return blocks, used, False

    def _usage(self, body: dict[str, Any], output_tokens: int) -> dict[str, Any]:
        """Usage of an answered request; caches the prefixes its breakpoints end."""
        blocks = _prompt_blocks(body)
        digest = hashlib.sha256(body["model"].encode())
        hashes: list[str] = []
        prefix_tokens: list[int] = []
        total = 0
        for block in blocks:
            digest.update(f"\x1e{block.role}\x1f{_compact(block.payload)}".encode())
            hashes.append(digest.copy().hexdigest())
            total += block.tokens
            prefix_tokens.append(total)
        minimum = self._min_cacheable(body["model"])
        eligible = [(end, ttl) for end, ttl in _breakpoints(body, blocks) if prefix_tokens[end] >= minimum]
        read_end = max((self._cached_end(hashes, end) for end, _ in eligible), default=-1)
        read = prefix_tokens[read_end] if read_end >= 0 else 0
        created = {"5m": 0, "1h": 0}
        start = read
        for end, ttl in eligible:
            if end > read_end:
                created[ttl] += prefix_tokens[end] - start
                start = prefix_tokens[end]
                self._cache[hashes[end]] = prefix_tokens[end]
        creation = created["5m"] + created["1h"]
        return {
            "input_tokens": total - read - creation,
            "cache_creation_input_tokens": creation,
            "cache_read_input_tokens": read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": created["5m"],
                "ephemeral_1h_input_tokens": created["1h"],
            },
            "output_tokens": output_tokens,
            "service_tier": "standard",
        }

    def _cached_end(self, hashes: list[str], breakpoint_end: int) -> int:
        """The last block position, at the breakpoint or up to 20 blocks before it, whose prefix is cached."""
        for position in range(breakpoint_end, max(breakpoint_end - CACHE_LOOKBACK_BLOCKS - 1, -1), -1):
            if hashes[position] in self._cache:
                return position
        return -1

    def _min_cacheable(self, model: str) -> int:
        if self._min_cacheable_tokens is not None:
            return self._min_cacheable_tokens
        return next(
            (tokens for prefix, tokens in MIN_CACHEABLE_TOKENS if model.startswith(prefix)),
            DEFAULT_MIN_CACHEABLE_TOKENS,
        )

    def _new_id(self, prefix: str, length: int) -> str:
        return prefix + "".join(self._random.choice(_ID_ALPHABET) for _ in range(length))

    def _respond(
        self, record: RecordedRequest, status: int, payload: Any, headers: Mapping[str, str] | None = None
    ) -> web.Response:
        record.status = status
        record.response = payload
        headers = {"request-id": self._new_id("req_011C", 20), **(headers or {})}
        return web.json_response(payload, status=status, headers=headers)

    def _error(self, record: RecordedRequest, reply: ErrorReply) -> web.Response:
        request_id = self._new_id("req_011C", 20)
        headers = {"request-id": request_id, **reply.headers}
        if reply.retry_after is not None:
            headers["retry-after"] = reply.retry_after
        error: dict[str, Any] = {"type": reply.type, "message": reply.message}
        if reply.details is not None:
            error["details"] = dict(reply.details)
        payload = {"type": "error", "error": error, "request_id": request_id}
        return self._respond(record, reply.status, payload, headers)


# --- Internals ----------------------------------------------------------------------------------------------


class _Refused(Exception):
    """A request the real API would refuse."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.reply = ErrorReply(status, error_type, message)


def _invalid(message: str) -> _Refused:
    return _Refused(400, "invalid_request_error", message)


def _bearer(authorization: str) -> str:
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _compact(value: Any) -> str:
    """Compact JSON, keys in the order sent (the real cache is byte-exact, so key order matters)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _tokens(characters: int) -> int:
    return max(1, math.ceil(characters / 4))


@dataclass(frozen=True)
class _PromptBlock:
    """One block of the prompt, in cache order: a tool, a system text block or a message content block."""

    path: str
    role: str
    payload: Any
    markers: tuple[Mapping[str, Any], ...]
    """Its cache_control markers: its own, then those of its nested content."""
    auto_cacheable: bool
    """Whether top-level automatic caching may put its breakpoint here."""

    @property
    def tokens(self) -> int:
        return _tokens(len(_compact(self.payload)))


def _prompt_blocks(body: Mapping[str, Any]) -> list[_PromptBlock]:
    blocks = [_prompt_block(f"tools.{i}", "tools", tool) for i, tool in enumerate(body.get("tools") or [])]
    system = body.get("system")
    if isinstance(system, str):
        if system:
            blocks.append(_prompt_block("system", "system", {"type": "text", "text": system}))
    else:
        blocks += [_prompt_block(f"system.{i}", "system", block) for i, block in enumerate(system or [])]
    for i, message in enumerate(body.get("messages") or []):
        content, role = message.get("content"), message.get("role")
        if isinstance(content, str):
            blocks.append(_prompt_block(f"messages.{i}.content", role, {"type": "text", "text": content}))
        else:
            blocks += [
                _prompt_block(f"messages.{i}.content.{j}", role, block)
                for j, block in enumerate(content or [])
            ]
    return blocks


def _prompt_block(path: str, role: str, block: Mapping[str, Any]) -> _PromptBlock:
    kind = block.get("type")
    empty_text = kind == "text" and not str(block.get("text") or "").strip()
    auto_cacheable = not empty_text and kind not in ("thinking", "redacted_thinking")
    return _PromptBlock(path, role, _payload(block), tuple(_markers(block)), auto_cacheable)


def _payload(block: Any) -> Any:
    """A block without its cache_control markers (nor those of its nested content)."""
    if not isinstance(block, dict):
        return block
    payload = {key: value for key, value in block.items() if key != "cache_control"}
    if isinstance(payload.get("content"), list):
        payload["content"] = [_payload(item) for item in payload["content"]]
    return payload


def _markers(block: Any) -> list[Mapping[str, Any]]:
    if not isinstance(block, dict):
        return []
    found = [block["cache_control"]] if block.get("cache_control") is not None else []
    for item in block.get("content") if isinstance(block.get("content"), list) else []:
        found += _markers(item)
    return found


def _breakpoints(body: Mapping[str, Any], blocks: list[_PromptBlock]) -> list[tuple[int, str]]:
    """(block position, ttl) of each cache breakpoint, automatic caching included, in prefix order."""
    points = {
        position: block.markers[0].get("ttl") or "5m"
        for position, block in enumerate(blocks)
        if block.markers
    }
    automatic = body.get("cache_control")
    if automatic:
        target = next((p for p in range(len(blocks) - 1, -1, -1) if blocks[p].auto_cacheable), None)
        if target is not None:
            points.setdefault(target, automatic.get("ttl") or "5m")
    return sorted(points.items())


_TOOL_FIELDS = frozenset(sdk_types.ToolParam.__required_keys__ | sdk_types.ToolParam.__optional_keys__)
_BLOCK_FIELDS = {
    kind: frozenset(p.__required_keys__ | p.__optional_keys__) for kind, p in _BLOCK_PARAMS.items()
}
_SCHEMA_INVALID = (
    "input_schema: JSON schema is invalid. It must match JSON Schema draft 2020-12 "
    "(https://json-schema.org/draft/2020-12). Learn more about tool use at "
    "https://platform.claude.com/docs/en/agents-and-tools/tool-use/overview."
)


def _validate(body: Any, *, creating: bool) -> None:
    """Raise _Refused with the real API's message for the first problem of a request body."""
    if not isinstance(body, dict):
        raise _invalid("body: Input should be a valid dictionary")
    for name in ("max_tokens", "messages", "model") if creating else ("messages", "model"):
        if name not in body:
            raise _invalid(f"{name}: Field required")
    if not isinstance(body["model"], str):
        raise _invalid("model: Input should be a valid string")
    if creating and (type(body["max_tokens"]) is not int or body["max_tokens"] < 0):
        raise _invalid("max_tokens: Input should be a valid integer greater than or equal to 0")
    _check_tools(body.get("tools"))
    _check_system(body.get("system"))
    _check_messages(body["messages"])
    _check_cache_control(body.get("cache_control"), "cache_control")
    _check_tool_turns(body)
    blocks = _prompt_blocks(body)
    count = sum(len(block.markers) for block in blocks)
    count += sum(1 for position, _ in _breakpoints(body, blocks) if not blocks[position].markers)
    if count > MAX_CACHE_BREAKPOINTS:
        raise _invalid(
            f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found {count}."
        )


def _check_tools(tools: Any) -> None:
    if tools is None:
        return
    if not isinstance(tools, list):
        raise _invalid("tools: Input should be a valid list")
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise _invalid(f"tools.{i}: Input should be a valid dictionary")
        if tool.get("type") in (None, "custom"):
            _check_custom_tool(tool, f"tools.{i}.custom")
    names = tool_names({"tools": tools})
    if len(set(names)) < len(names):
        raise _invalid("tools: Tool names must be unique.")


def _check_custom_tool(tool: dict[str, Any], path: str) -> None:
    for key in tool:
        if key not in _TOOL_FIELDS:
            raise _invalid(f"{path}.{key}: Extra inputs are not permitted")
    name = tool.get("name")
    if name is None:
        raise _invalid(f"{path}.name: Field required")
    if not isinstance(name, str) or not TOOL_NAME.match(name):
        raise _invalid(f"{path}.name: String should match pattern '{TOOL_NAME.pattern}'")
    schema = tool.get("input_schema")
    if schema is None:
        raise _invalid(f"{path}.input_schema: Field required")
    if not isinstance(schema, dict):
        raise _invalid(f"{path}.input_schema: Input should be a valid dictionary")
    if "type" not in schema:
        raise _invalid(f"{path}.input_schema.type: Field required")
    if schema["type"] != "object":
        raise _invalid(f"{path}.input_schema.type: Input should be 'object'")
    if any(key in schema for key in ("oneOf", "allOf", "anyOf")):
        raise _invalid(
            f"{path}.input_schema: input_schema does not support oneOf, allOf, or anyOf at the top level"
        )
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError:
        raise _invalid(f"{path}.{_SCHEMA_INVALID}") from None
    _check_cache_control(tool.get("cache_control"), f"{path}.cache_control")


def _check_system(system: Any) -> None:
    if system is None or isinstance(system, str):
        return
    if not isinstance(system, list):
        raise _invalid("system: Input should be a valid string or list")
    for i, block in enumerate(system):
        if not isinstance(block, dict) or block.get("type") != "text":
            raise _invalid(f"system.{i}.type: Input should be 'text'")
        _check_block(block, f"system.{i}", "system")


def _check_messages(messages: Any) -> None:
    if not isinstance(messages, list):
        raise _invalid("messages: Input should be a valid list")
    if not messages:
        raise _invalid("messages: at least one message is required")
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise _invalid(f"messages.{i}: Input should be a valid dictionary")
        if message.get("role") not in ("user", "assistant"):
            raise _invalid(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        if "content" not in message:
            raise _invalid(f"messages.{i}.content: Field required")
        if not isinstance(message["content"], str | list):
            raise _invalid(f"messages.{i}.content: Input should be a valid string or list")
    if messages[0]["role"] != "user":
        raise _invalid('messages: first message must use the "user" role')
    for i, message in enumerate(messages):
        content = message["content"]
        final_assistant = i == len(messages) - 1 and message["role"] == "assistant"
        if not content and not final_assistant:
            raise _invalid(
                f"messages.{i}: all messages must have non-empty content "
                "except for the optional final assistant message"
            )
        if isinstance(content, str) and content and not content.strip() and not final_assistant:
            raise _invalid("messages: text content blocks must contain non-whitespace text")
        for j, block in enumerate(content if isinstance(content, list) else []):
            _check_block(block, f"messages.{i}.content.{j}", "messages")


def _check_block(block: Any, path: str, top: str) -> None:
    if not isinstance(block, dict):
        raise _invalid(f"{path}: Input should be a valid dictionary")
    kind = block.get("type")
    if kind is None:
        raise _invalid(f"{path}.type: Field required")
    if kind not in _BLOCK_FIELDS:
        return  # server tool blocks, search results...: passed through unchecked
    tagged = f"{path}.{kind}"
    for key in block:
        if key not in _BLOCK_FIELDS[kind]:
            raise _invalid(f"{tagged}.{key}: Extra inputs are not permitted")
    _check_cache_control(block.get("cache_control"), f"{tagged}.cache_control")
    if kind == "text":
        _check_text(block, tagged, top)
    elif kind == "tool_use":
        for key in ("id", "name", "input"):
            if key not in block:
                raise _invalid(f"{tagged}.{key}: Field required")
        if not isinstance(block["input"], dict):
            raise _invalid(f"{tagged}.input: Input should be a valid dictionary")
    elif kind == "tool_result":
        if not isinstance(block.get("tool_use_id"), str):
            raise _invalid(f"{tagged}.tool_use_id: Field required")
        for k, item in enumerate(block["content"] if isinstance(block.get("content"), list) else []):
            _check_block(item, f"{tagged}.content.{k}", top)


def _check_text(block: dict[str, Any], tagged: str, top: str) -> None:
    value = block.get("text")
    if not isinstance(value, str):
        raise _invalid(f"{tagged}.text: Field required")
    if value.strip():
        return
    if block.get("cache_control") is not None:
        raise _invalid(f"{tagged}: cache_control cannot be set for empty text blocks")
    if not value:
        raise _invalid(f"{top}: text content blocks must be non-empty")
    raise _invalid(f"{top}: text content blocks must contain non-whitespace text")


def _check_cache_control(marker: Any, path: str) -> None:
    if marker is None:
        return
    if not isinstance(marker, dict) or marker.get("type") != "ephemeral":
        raise _invalid(f"{path}.type: Input should be 'ephemeral'")
    if marker.get("ttl") not in (None, "5m", "1h"):
        raise _invalid(f"{path}.ttl: Input should be '5m' or '1h'")


_Located = tuple[int, int, dict[str, Any]]  # (message index, content index, block)


def _check_tool_turns(body: dict[str, Any]) -> None:
    """tool_use / tool_result pairing, over turns (consecutive messages of one role are one turn)."""
    turns = _turns(body["messages"])
    if not body.get("tools") and any(
        block["type"] in ("tool_use", "tool_result") for _, blocks in turns for _, _, block in blocks
    ):
        raise _invalid("Requests which include `tool_use` or `tool_result` blocks must define tools.")
    for number, (role, blocks) in enumerate(turns):
        if role == "assistant":
            following = turns[number + 1][1] if number + 1 < len(turns) else []
            _check_answered(blocks, _leading_result_ids(following))
        else:
            previous = turns[number - 1][1] if number else []
            known = {block["id"] for _, _, block in previous if block["type"] == "tool_use"}
            for i, j, block in blocks:
                if block["type"] == "tool_result" and block["tool_use_id"] not in known:
                    raise _invalid(
                        f"messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: "
                        f"{block['tool_use_id']}. Each `tool_result` block must have a corresponding "
                        "`tool_use` block in the previous message."
                    )


def _turns(messages: list[dict[str, Any]]) -> list[tuple[str, list[_Located]]]:
    turns: list[tuple[str, list[_Located]]] = []
    for i, message in enumerate(messages):
        content = message["content"]
        if isinstance(content, str):
            blocks = [(i, 0, {"type": "text", "text": content})]
        else:
            blocks = [(i, j, block) for j, block in enumerate(content)]
        if turns and turns[-1][0] == message["role"]:
            turns[-1][1].extend(blocks)
        else:
            turns.append((message["role"], blocks))
    return turns


def _leading_result_ids(blocks: list[_Located]) -> set[str]:
    """The ids answered by the tool_result blocks a turn starts with (results must come before any text)."""
    ids: set[str] = set()
    for _, _, block in blocks:
        if block["type"] != "tool_result":
            break
        ids.add(block["tool_use_id"])
    return ids


def _check_answered(blocks: list[_Located], answered: set[str]) -> None:
    missing = [
        (i, block["id"])
        for i, _, block in blocks
        if block["type"] == "tool_use" and block["id"] not in answered
    ]
    if missing:
        raise _invalid(
            f"messages.{missing[0][0]}: `tool_use` ids were found without `tool_result` blocks "
            f"immediately after: {', '.join(tool_id for _, tool_id in missing)}. Each `tool_use` block "
            "must have a corresponding `tool_result` block in the next message."
        )


def _reply_problems(reply: Reply, body: Mapping[str, Any]) -> list[str]:
    """Why the real model could not give this scripted reply to this request (empty when it could)."""
    problems: list[str] = []
    calls = [item for item in reply.content if isinstance(item, ToolCall)]
    declared = tool_names(body)
    for call in calls:
        if call.name not in declared and not call.hallucinated:
            problems.append(
                f"the script calls tool {call.name!r}, which the request does not declare "
                f"(tools: {declared}); pass hallucinated=True to simulate a model calling an undeclared tool"
            )
    stop_reason = reply.stop_reason or ("tool_use" if calls else "end_turn")
    if stop_reason not in STOP_REASONS:
        problems.append(f"unknown stop_reason {stop_reason!r}")
    if stop_reason == "tool_use" and not calls:
        problems.append("stop_reason 'tool_use' without a tool call")
    if calls and stop_reason not in ("tool_use", "max_tokens"):
        problems.append(f"tool calls with stop_reason {stop_reason!r}")
    if stop_reason == "stop_sequence" and reply.stop_sequence not in (body.get("stop_sequences") or []):
        problems.append(f"stop_sequence {reply.stop_sequence!r} is not among the request's stop_sequences")
    problems += _tool_choice_problems(reply, calls, body.get("tool_choice") or {})
    return problems


def _tool_choice_problems(reply: Reply, calls: list[ToolCall], choice: Mapping[str, Any]) -> list[str]:
    kind = choice.get("type")
    problems = []
    if kind == "none" and calls:
        problems.append("tool_choice is 'none' but the script calls a tool")
    if kind == "any" and not calls:
        problems.append("tool_choice is 'any' but the script calls no tool")
    if kind == "tool" and not any(call.name == choice.get("name") for call in calls):
        problems.append(f"tool_choice forces {choice.get('name')!r} but the script does not call it")
    if kind in ("any", "tool") and reply.content and isinstance(reply.content[0], str):
        problems.append(f"tool_choice {kind!r} prefills the turn with a tool call: no text may come first")
    if choice.get("disable_parallel_tool_use") and len(calls) > 1:
        problems.append("disable_parallel_tool_use is set but the script calls several tools")
    return problems
