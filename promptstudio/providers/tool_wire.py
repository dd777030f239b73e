"""Tools on the wire: definitions, tool choice, and tool turns in each API's own shape.

* Chat Completions: ``tools=[{"type": "function", "function": {...}}]``, ``tool_choice``
  ("auto", "none", "required" or ``{"type": "function", "function": {"name"}}``),
  ``parallel_tool_calls``; history turns are ``Message.to_dict()`` (assistant
  ``tool_calls``, ``role: tool`` with ``tool_call_id``).
* Responses: ``tools=[{"type": "function", "name", "description", "parameters"}]``, the
  choice as a word or ``{"type": "function", "name"}``; calls and results are input items
  of their own (``function_call`` / ``function_call_output``, joined by ``call_id``).
* Anthropic Messages: ``tools=[{"name", "description", "input_schema"}]``, ``tool_choice``
  ``{"type": "auto" | "any" | "none" | "tool"}`` (parallel calls are switched off with
  ``disable_parallel_tool_use``); calls are ``tool_use`` blocks of the assistant turn and
  results ``tool_result`` blocks of the next user turn.

Tool choice and parallel calls go out only with tools (the APIs refuse them alone).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from promptstudio.chat import Message
from promptstudio.providers.base import ChatRequest
from promptstudio.providers.content_parts import anthropic_message, responses_item
from promptstudio.providers.errors import UnsupportedSetting

FIXED_CHOICES = ("auto", "none", "required")


def tool_choice_problem(request: ChatRequest) -> UnsupportedSetting | None:
    """A named tool choice that names no tool of the request."""
    choice = request.params.tool_choice
    if choice is None or choice in FIXED_CHOICES:
        return None
    if not any(tool.name == choice for tool in request.tools):
        return UnsupportedSetting(f"Tool choice '{choice}' names no tool of this prompt.")
    return None


def _parallel(request: ChatRequest) -> bool | None:
    value = request.params.parallel_tool_calls
    return None if value is None else value == "yes"


def chat_tools(request: ChatRequest) -> dict[str, Any]:
    """``chat.completions.create`` arguments for the request's tools."""
    if not request.tools:
        return {}
    out: dict[str, Any] = {
        "tools": [{"type": "function", "function": t.openai_function()} for t in request.tools]
    }
    choice = request.params.tool_choice
    if choice in FIXED_CHOICES:
        out["tool_choice"] = choice
    elif choice:
        out["tool_choice"] = {"type": "function", "function": {"name": choice}}
    parallel = _parallel(request)
    if parallel is not None:
        out["parallel_tool_calls"] = parallel
    return out


def responses_tools(request: ChatRequest) -> dict[str, Any]:
    """``responses.create`` arguments for the request's tools."""
    if not request.tools:
        return {}
    tools = []
    for tool in request.tools:
        item: dict[str, Any] = {"type": "function", "name": tool.name}
        if tool.description:
            item["description"] = tool.description
        item["parameters"] = tool.parameters
        item["strict"] = False  # strict mode rewrites schemas; we send them as written
        tools.append(item)
    out: dict[str, Any] = {"tools": tools}
    choice = request.params.tool_choice
    if choice in FIXED_CHOICES:
        out["tool_choice"] = choice
    elif choice:
        out["tool_choice"] = {"type": "function", "name": choice}
    parallel = _parallel(request)
    if parallel is not None:
        out["parallel_tool_calls"] = parallel
    return out


def responses_input(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """The Responses API's input items for our turns."""
    items: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "tool":
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": message.tool_call_id,
                    "output": message.content,
                }
            )
            continue
        if message.content or message.parts or not message.tool_calls:
            items.append(responses_item(message))
        for call in message.tool_calls:
            items.append(
                {
                    "type": "function_call",
                    "call_id": call.id,
                    "name": call.name,
                    "arguments": call.arguments or "{}",
                }
            )
    return items


def anthropic_tools(request: ChatRequest) -> dict[str, Any]:
    """``messages.create`` arguments for the request's tools."""
    if not request.tools:
        return {}
    tools = []
    for tool in request.tools:
        item: dict[str, Any] = {"name": tool.name}
        if tool.description:
            item["description"] = tool.description
        item["input_schema"] = tool.parameters
        tools.append(item)
    out: dict[str, Any] = {"tools": tools}
    choice = request.params.tool_choice
    parallel = _parallel(request)
    kind = {"auto": "auto", "none": "none", "required": "any"}.get(choice or "", "tool")
    tool_choice: dict[str, Any] = {}
    if choice:
        tool_choice = {"type": kind} if kind != "tool" else {"type": "tool", "name": choice}
    if parallel is False and kind != "none":
        tool_choice = tool_choice or {"type": "auto"}
        tool_choice["disable_parallel_tool_use"] = True
    if tool_choice:
        out["tool_choice"] = tool_choice
    return out


def _arguments(text: str) -> Any:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def anthropic_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """The Messages API's turns for our non-system turns: tool calls as ``tool_use`` blocks,
    results as ``tool_result`` blocks, the results of one turn joined in one user turn."""
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        if message.role == "tool":
            block = {
                "type": "tool_result",
                "tool_use_id": message.tool_call_id,
                "content": message.content,
            }
            last = out[-1] if out else None
            if last is not None and last["role"] == "user" and isinstance(last["content"], list):
                last["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
            continue
        if message.tool_calls:
            blocks: list[dict[str, Any]] = []
            if message.parts:
                blocks += anthropic_message(message)["content"]
            elif message.content:
                blocks.append({"type": "text", "text": message.content})
            for call in message.tool_calls:
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": call.id,
                        "name": call.name,
                        "input": _arguments(call.arguments),
                    }
                )
            out.append({"role": message.role, "content": blocks})
            continue
        out.append(anthropic_message(message))
    return out
