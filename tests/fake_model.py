"""A scriptable OpenAI-compatible model server on a loopback port.

It speaks streamed (and plain) Chat Completions and Responses over real HTTP/SSE, on
the OpenAI paths (`/v1/...`) and the Azure OpenAI paths (`/openai/...`), so the real
`openai` client, the Agents SDK and ChatKit's `stream_agent_response` run against it.

Tests script replies in order with `FakeModel.script(...)`; requests that ask for a
thread title (recognised by the title prompt) get `FakeModel.title` without using the
script. Every request is recorded for assertions.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.servers import ThreadedApp

TITLE_MARKER = "Write a short title"


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, Any]
    call_id: str = ""


@dataclass
class Reply:
    """One scripted model answer."""

    text: list[str] = field(default_factory=list)  # streamed as these deltas
    tool_calls: list[ToolCall] = field(default_factory=list)
    delay: float = 0.0  # seconds between deltas
    first_token_delay: float = 0.0  # before the first delta (after headers)
    hang: float = 0.0  # before any response at all (timeouts)
    status: int = 200  # non-200: an error response with this status
    headers: dict[str, str] = field(default_factory=dict)
    cut_after: int | None = None  # drop the connection after this many deltas

    @classmethod
    def say(cls, *deltas: str, delay: float = 0.0, **kw: Any) -> Reply:
        return cls(text=list(deltas), delay=delay, **kw)

    @classmethod
    def call(cls, name: str, **arguments: Any) -> Reply:
        return cls(tool_calls=[ToolCall(name=name, arguments=arguments)])

    @classmethod
    def error(cls, status: int, **headers: str) -> Reply:
        return cls(status=status, headers=headers)


@dataclass
class Recorded:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    received_at: float = field(default_factory=time.time)  # wall clock, for benchmarks
    first_token_at: float | None = None
    deltas_sent: int = 0  # how many text deltas the client took before it went away
    # Wall-clock time each text delta was handed to the HTTP layer (streaming fidelity).
    delta_sent_at: list[float] = field(default_factory=list)
    finished: bool = False  # every scripted delta was sent

    @property
    def api(self) -> str:
        return "responses" if self.path.endswith("/responses") else "chat_completions"

    def text(self) -> str:
        """Everything the model was sent, flattened, for 'did it see X' assertions."""
        return json.dumps(self.body, ensure_ascii=False)

    @property
    def is_title(self) -> bool:
        return TITLE_MARKER in self.text()


class FakeModel:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._script: list[Reply] = []
        self.requests: list[Recorded] = []
        self.title = "Fake title"
        self.default = Reply.say("Default ", "fake ", "reply.")
        # Answers chosen from the request itself, for tests whose concurrent turns
        # cannot rely on the order of one shared script; consulted once the script is empty.
        self.responder: Callable[[Recorded], Reply] | None = None
        self._ids = itertools.count(1)
        self._runner: ThreadedApp | None = None
        self.port = 0

    # Scripting

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self.requests.clear()
            self.title = "Fake title"
            self.responder = None

    @property
    def turn_requests(self) -> list[Recorded]:
        """Recorded requests other than title generation."""
        return [r for r in self.requests if not r.is_title]

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._script)

    def _next(self, recorded: Recorded) -> Reply:
        with self._lock:
            self.requests.append(recorded)
            if recorded.is_title:
                return Reply.say(self.title)
            if self._script:
                return self._script.pop(0)
            return self.responder(recorded) if self.responder else self.default

    # Serving

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def azure_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeModel:
        app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/openai/deployments/{d}/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/responses", self._responses, methods=["POST"]),
                Route("/openai/responses", self._responses, methods=["POST"]),
                Route("/openai/v1/responses", self._responses, methods=["POST"]),
            ]
        )
        self._runner = ThreadedApp(app, "fake model server")
        self.port = self._runner.start()
        return self

    def stop(self) -> None:
        if self._runner is not None:
            self._runner.stop()

    async def _receive(self, request: Request) -> tuple[Recorded, Reply]:
        body = await request.json()
        recorded = Recorded(request.url.path, body, dict(request.headers))
        reply = self._next(recorded)
        if reply.hang:
            await asyncio.sleep(reply.hang)
        return recorded, reply

    @staticmethod
    def _error(reply: Reply) -> Response:
        return JSONResponse(
            {"error": {"message": f"fake error {reply.status}", "type": "fake", "code": None}},
            status_code=reply.status,
            headers=reply.headers,
        )

    def _call_ids(self, reply: Reply) -> list[ToolCall]:
        return [
            ToolCall(c.name, c.arguments, c.call_id or f"call_{next(self._ids)}")
            for c in reply.tool_calls
        ]

    # Chat Completions

    async def _chat(self, request: Request) -> Response:
        recorded, reply = await self._receive(request)
        if reply.status != 200:
            return self._error(reply)
        model = recorded.body.get("model", "fake")
        calls = self._call_ids(reply)
        if not recorded.body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": "".join(reply.text) or None}
            if calls:
                message["tool_calls"] = [_chat_tool_call(c) for c in calls]
            return JSONResponse(
                {
                    "id": f"chatcmpl-{next(self._ids)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": message,
                            "finish_reason": "tool_calls" if calls else "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                }
            )
        return _sse(self._chat_events(reply, calls, model, recorded))

    async def _chat_events(
        self, reply: Reply, calls: list[ToolCall], model: str, recorded: Recorded
    ) -> AsyncIterator[str]:
        chunk_id = f"chatcmpl-{next(self._ids)}"

        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
            choices = [{"index": 0, "delta": delta, "finish_reason": finish}]
            data = {
                "id": chunk_id,
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": choices,
                **extra,
            }
            return f"data: {json.dumps(data)}\n\n"

        yield chunk({"role": "assistant", "content": ""})
        async for delta in _deltas(reply, recorded):
            yield chunk({"content": delta})
        for index, call in enumerate(calls):
            call_delta = {"index": index, **_chat_tool_call(call)}
            yield chunk({"tool_calls": [call_delta]})
        yield chunk({}, "tool_calls" if calls else "stop")
        usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
        data = {
            "id": chunk_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [],
            "usage": usage,
        }
        yield f"data: {json.dumps(data)}\n\n"
        yield "data: [DONE]\n\n"

    # Responses

    async def _responses(self, request: Request) -> Response:
        recorded, reply = await self._receive(request)
        if reply.status != 200:
            return self._error(reply)
        model = recorded.body.get("model", "fake")
        calls = self._call_ids(reply)
        response_id = f"resp_{next(self._ids)}"
        message_id = f"msg_fake{next(self._ids)}"
        if not recorded.body.get("stream"):
            output = _response_output(reply, calls, message_id, "".join(reply.text))
            return JSONResponse(_response(response_id, model, "completed", output))
        return _sse(self._response_events(reply, calls, model, response_id, message_id, recorded))

    async def _response_events(
        self,
        reply: Reply,
        calls: list[ToolCall],
        model: str,
        response_id: str,
        message_id: str,
        recorded: Recorded,
    ) -> AsyncIterator[str]:
        seq = itertools.count()

        def event(kind: str, **data: Any) -> str:
            payload = {"type": kind, "sequence_number": next(seq), **data}
            return f"event: {kind}\ndata: {json.dumps(payload)}\n\n"

        yield event("response.created", response=_response(response_id, model, "in_progress", []))
        yield event(
            "response.in_progress", response=_response(response_id, model, "in_progress", [])
        )
        index = 0
        text = ""
        if reply.text:
            item = {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "status": "in_progress",
                "content": [],
            }
            yield event("response.output_item.added", output_index=0, item=item)
            part = {"type": "output_text", "text": "", "annotations": []}
            yield event(
                "response.content_part.added",
                item_id=message_id,
                output_index=0,
                content_index=0,
                part=part,
            )
            async for delta in _deltas(reply, recorded):
                text += delta
                yield event(
                    "response.output_text.delta",
                    item_id=message_id,
                    output_index=0,
                    content_index=0,
                    delta=delta,
                    logprobs=[],
                )
            yield event(
                "response.output_text.done",
                item_id=message_id,
                output_index=0,
                content_index=0,
                text=text,
                logprobs=[],
            )
            done_part = {"type": "output_text", "text": text, "annotations": []}
            yield event(
                "response.content_part.done",
                item_id=message_id,
                output_index=0,
                content_index=0,
                part=done_part,
            )
            yield event(
                "response.output_item.done", output_index=0, item=_message(message_id, text)
            )
            index = 1
        for offset, call in enumerate(calls):
            item = _function_call(call, status="in_progress", arguments="")
            yield event("response.output_item.added", output_index=index + offset, item=item)
            arguments = json.dumps(call.arguments)
            yield event(
                "response.function_call_arguments.delta",
                item_id=item["id"],
                output_index=index + offset,
                delta=arguments,
            )
            yield event(
                "response.function_call_arguments.done",
                item_id=item["id"],
                output_index=index + offset,
                arguments=arguments,
            )
            yield event(
                "response.output_item.done", output_index=index + offset, item=_function_call(call)
            )
        output = _response_output(reply, calls, message_id, text)
        yield event(
            "response.completed", response=_response(response_id, model, "completed", output)
        )


async def _deltas(reply: Reply, recorded: Recorded) -> AsyncIterator[str]:
    if reply.first_token_delay:
        await asyncio.sleep(reply.first_token_delay)
    for n, delta in enumerate(reply.text):
        if reply.cut_after is not None and n >= reply.cut_after:
            raise ConnectionAbortedError("scripted cut")
        if n and reply.delay:
            await asyncio.sleep(reply.delay)
        now = time.time()
        if recorded.first_token_at is None:
            recorded.first_token_at = now
        recorded.delta_sent_at.append(now)
        yield delta
        recorded.deltas_sent = n + 1
    recorded.finished = True


def _sse(events: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(
        events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


def _chat_tool_call(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.call_id,
        "type": "function",
        "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
    }


def _message(message_id: str, text: str) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def _function_call(
    call: ToolCall, status: str = "completed", arguments: str | None = None
) -> dict[str, Any]:
    return {
        "id": f"fc_{call.call_id}",
        "type": "function_call",
        "call_id": call.call_id,
        "name": call.name,
        "status": status,
        "arguments": json.dumps(call.arguments) if arguments is None else arguments,
    }


def _response_output(
    reply: Reply, calls: list[ToolCall], message_id: str, text: str
) -> list[dict[str, Any]]:
    output = [_message(message_id, text)] if reply.text else []
    return output + [_function_call(c) for c in calls]


def _response(
    response_id: str, model: str, status: str, output: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "id": response_id,
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "temperature": 1.0,
        "top_p": 1.0,
        "text": {"format": {"type": "text"}},
        "usage": {
            "input_tokens": 10,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 5,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 15,
        },
    }
