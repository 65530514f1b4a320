"""A minimal ChatKit server, built the way ChatKit's starter app builds one, as the
benchmark's yardstick: FastAPI, one `ChatKitServer` whose `respond` runs an Agents SDK
agent through `stream_agent_response`, and a dict in memory as the store. Nothing is
persisted, checked or logged: whatever the real app costs beyond this is the price of
persistence, statelessness, auth and limits.

It talks to the same fake model over Chat Completions (`OPENAI_BASE_URL`, `OPENAI_MODEL`).
Run: python -m bench.reference_server --port 8000
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from agents import Agent, OpenAIChatCompletionsModel, RunConfig, Runner, set_tracing_disabled
from chatkit.agents import AgentContext, ThreadItemConverter, stream_agent_response
from chatkit.server import ChatKitServer, StreamingResult
from chatkit.store import NotFoundError, Store
from chatkit.types import (
    AssistantMessageItem,
    Attachment,
    Page,
    ThreadItem,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
)
from fastapi import FastAPI, Request
from fastapi.responses import Response, StreamingResponse
from openai import AsyncOpenAI

# Items sent to the model: the starter app sends 20; the benchmark gives the reference the
# app's own window (HISTORY_LIMIT, default 30) so both send the model the same request.
HISTORY = int(os.environ.get("HISTORY_LIMIT", "30"))


@dataclass
class Context:
    user_id: str


class MemoryStore(Store[Context]):
    """Threads and items in dicts, for one process and one user: the starter's store."""

    def __init__(self) -> None:
        self.threads: dict[str, ThreadMetadata] = {}
        self.items: dict[str, list[ThreadItem]] = {}
        self.attachments: dict[str, Attachment] = {}

    async def load_thread(self, thread_id: str, context: Context) -> ThreadMetadata:
        if thread_id not in self.threads:
            raise NotFoundError(f"Thread {thread_id} not found")
        return self.threads[thread_id]

    async def save_thread(self, thread: ThreadMetadata, context: Context) -> None:
        self.threads[thread.id] = ThreadMetadata.model_validate(thread.model_dump())
        self.items.setdefault(thread.id, [])

    async def load_threads(
        self, limit: int, after: str | None, order: str, context: Context
    ) -> Page[ThreadMetadata]:
        threads = sorted(self.threads.values(), key=lambda t: t.created_at, reverse=order == "desc")
        return _page(threads, limit, after)

    async def delete_thread(self, thread_id: str, context: Context) -> None:
        self.threads.pop(thread_id, None)
        self.items.pop(thread_id, None)

    async def load_thread_items(
        self, thread_id: str, after: str | None, limit: int, order: str, context: Context
    ) -> Page[ThreadItem]:
        items = list(self.items.get(thread_id, []))  # kept in insertion (creation) order
        if order == "desc":
            items.reverse()
        return _page(items, limit, after)

    async def add_thread_item(self, thread_id: str, item: ThreadItem, context: Context) -> None:
        self.items.setdefault(thread_id, []).append(item)

    async def save_item(self, thread_id: str, item: ThreadItem, context: Context) -> None:
        items = self.items.setdefault(thread_id, [])
        for n, existing in enumerate(items):
            if existing.id == item.id:
                items[n] = item
                return
        items.append(item)

    async def load_item(self, thread_id: str, item_id: str, context: Context) -> ThreadItem:
        for item in self.items.get(thread_id, []):
            if item.id == item_id:
                return item
        raise NotFoundError(f"Item {item_id} not found")

    async def delete_thread_item(self, thread_id: str, item_id: str, context: Context) -> None:
        self.items[thread_id] = [i for i in self.items.get(thread_id, []) if i.id != item_id]

    async def save_attachment(self, attachment: Attachment, context: Context) -> None:
        self.attachments[attachment.id] = attachment

    async def load_attachment(self, attachment_id: str, context: Context) -> Attachment:
        if attachment_id not in self.attachments:
            raise NotFoundError(f"Attachment {attachment_id} not found")
        return self.attachments[attachment_id]

    async def delete_attachment(self, attachment_id: str, context: Context) -> None:
        self.attachments.pop(attachment_id, None)


def _page(rows: list[Any], limit: int, after: str | None) -> Page[Any]:
    start = 0
    if after:
        start = next((n + 1 for n, row in enumerate(rows) if row.id == after), len(rows))
    chunk = rows[start : start + limit]
    more = start + limit < len(rows)
    return Page(data=chunk, has_more=more, after=chunk[-1].id if more and chunk else None)


class ChatCompletionsConverter(ThreadItemConverter):
    """ChatKit's default converter sends earlier answers back as `output_text` parts,
    which the Agents SDK refuses on the Chat Completions path from the second turn on
    (openai-chatkit 1.6.5, openai-agents 0.24.0); plain text works on both paths."""

    async def assistant_message_to_input(self, item: AssistantMessageItem) -> Any:
        text = "".join(part.text for part in item.content)
        return {"type": "message", "role": "assistant", "content": text}


class ReferenceServer(ChatKitServer[Context]):
    def __init__(self, store: MemoryStore, base_url: str, api_key: str, model: str):
        super().__init__(store)
        client = AsyncOpenAI(base_url=base_url, api_key=api_key, max_retries=0)
        self.model = OpenAIChatCompletionsModel(model=model, openai_client=client)
        self.agent: Agent[AgentContext[Context]] = Agent(
            name="Assistant", instructions="You are a helpful assistant."
        )
        self.converter = ChatCompletionsConverter()

    async def respond(
        self, thread: ThreadMetadata, input_user_message: UserMessageItem | None, context: Context
    ) -> AsyncIterator[ThreadStreamEvent]:
        page = await self.store.load_thread_items(thread.id, None, HISTORY, "desc", context)
        agent_input = await self.converter.to_agent_input(list(reversed(page.data)))
        agent_context = AgentContext(thread=thread, store=self.store, request_context=context)
        result = Runner.run_streamed(
            self.agent,
            agent_input,
            context=agent_context,
            run_config=RunConfig(model=self.model, tracing_disabled=True),
        )
        async for event in stream_agent_response(agent_context, result):
            yield event


def build_app() -> FastAPI:
    set_tracing_disabled(True)  # no OpenAI key here: exporting traces would only fail
    server = ReferenceServer(
        MemoryStore(),
        base_url=os.environ["OPENAI_BASE_URL"],
        api_key=os.environ.get("OPENAI_API_KEY", "unused"),
        model=os.environ.get("OPENAI_MODEL", "fake-model"),
    )
    app = FastAPI()

    @app.post("/chatkit")
    async def chatkit(request: Request) -> Response:
        result = await server.process(await request.body(), Context(user_id="reference-user"))
        if isinstance(result, StreamingResult):
            return StreamingResponse(result, media_type="text/event-stream")
        return Response(content=result.json, media_type="application/json")

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    uvicorn.run(build_app(), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
