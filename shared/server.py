"""The ChatKit server every use case runs on.

Stateless by construction: each call rebuilds what it needs from the store (thread,
the newest HISTORY_LIMIT items, session state) and keeps nothing about users or threads
on the object, which holds only per-process collaborators (store, model catalog).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, tzinfo
from functools import cached_property
from pathlib import Path
from typing import Any

import anyio
import chatkit.agents
import chatkit.server
from agents import Agent, RunConfig, Runner
from chatkit.agents import stream_agent_response
from chatkit.errors import CustomStreamError
from chatkit.server import ChatKitServer, NonStreamingResult, StreamingResult
from chatkit.store import NotFoundError
from chatkit.types import (
    Action,
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    ChatKitReq,
    FeedbackKind,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    ThreadUpdatedEvent,
    UserMessageItem,
    UserMessageTextContent,
    WidgetItem,
    is_streaming_req,
)

from shared import telemetry
from shared.attachments.base import AppAttachmentStore
from shared.context import RequestContext
from shared.converter import HistoryConverter, attachment_cost
from shared.documents import Documents
from shared.model_errors import describe_model_error
from shared.providers import ModelCatalog, ModelUnavailable
from shared.session_state import SessionStateHandle
from shared.settings import ModelOption, Settings
from shared.stores.base import AppStore
from shared.turn_context import ActionContext, TurnContext
from shared.use_case import UseCase

logger = logging.getLogger(__name__)


class _UtcClock(datetime):
    """`datetime` whose `now()` is timezone-aware UTC, for ChatKit's own stamping.

    openai-chatkit stamps threads and items with `datetime.now()`: naive local time,
    i.e. another instant on every server time zone (a rate limit counted from it
    locked Tokyo out for 9 hours). ChatKit uses its module's `datetime` only for
    `now()`, so swapping that name changes nothing else.
    """

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        return datetime.now(tz or UTC)


chatkit.server.datetime = _UtcClock  # type: ignore[attr-defined]
chatkit.agents.datetime = _UtcClock  # type: ignore[attr-defined]

_TITLE_INSTRUCTIONS = (Path(__file__).parent / "prompts" / "thread_title.md").read_text()
_TITLE_MAX_CHARS = 60


def fallback_title(text: str) -> str:
    """The first words of the message, cut at a word boundary."""
    text = " ".join(text.split())
    if len(text) <= _TITLE_MAX_CHARS:
        return text or "New chat"
    cut = text[:_TITLE_MAX_CHARS].rsplit(" ", 1)[0] or text[:_TITLE_MAX_CHARS]
    return cut.rstrip(" ,.;:") + "…"


def newest_attachment_ids(history: list[Any], max_count: int, max_bytes: int) -> list[str]:
    """The attachments whose content one model request carries: distinct, newest first,
    as many as fit `max_count` and `max_bytes`; the others reach the model by name."""
    ids: list[str] = []
    seen: set[str] = set()
    total = 0
    for item in reversed(history):
        if not isinstance(item, UserMessageItem):
            continue
        for attachment in item.attachments:
            if len(ids) >= max_count:
                return ids
            if attachment.id in seen:
                continue
            seen.add(attachment.id)
            cost = attachment_cost(attachment)
            if total + cost <= max_bytes:
                ids.append(attachment.id)
                total += cost
    return ids


def is_text_delta(event: ThreadStreamEvent) -> bool:
    return isinstance(event, ThreadItemUpdatedEvent) and isinstance(
        event.update, AssistantMessageContentPartTextDelta
    )


def message_text(item: UserMessageItem) -> str:
    return " ".join(
        part.text for part in item.content if isinstance(part, UserMessageTextContent)
    ).strip()


class UseCaseServer(ChatKitServer[RequestContext]):
    def __init__(
        self,
        *,
        use_case: UseCase,
        store: AppStore,
        catalog: ModelCatalog,
        settings: Settings,
        attachment_store: AppAttachmentStore | None = None,
    ):
        super().__init__(store, attachment_store)
        self.files = attachment_store
        self.app_store = store
        self.use_case = use_case
        self.catalog = catalog
        self.settings = settings

    @cached_property
    def agent(self) -> Agent[TurnContext]:
        # Built once per process: an Agent holds configuration only, no user data.
        return self.use_case.build_agent()

    @cached_property
    def actions(self) -> dict[str, Any]:
        return dict(self.use_case.load_actions())

    async def process_parsed(
        self, request: ChatKitReq, context: RequestContext
    ) -> StreamingResult | NonStreamingResult:
        """`ChatKitServer.process` for a request the endpoint has already parsed.

        `process` parses the body again, with a pydantic TypeAdapter it builds on every
        call: ~2.5 ms of CPU per request (openai-chatkit 1.6.5), which is most of what
        the stack adds before the model sees a new thread.
        """
        if is_streaming_req(request):
            return StreamingResult(self._process_streaming(request, context))
        return NonStreamingResult(await self._process_non_streaming(request, context))

    # Turns

    async def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        model_id = input_user_message.inference_options.model if input_user_message else None
        needs_title = thread.title is None and input_user_message is not None
        first_text = message_text(input_user_message) if input_user_message else ""
        try:
            option = self.catalog.resolve(model_id)
        except ModelUnavailable as exc:
            if needs_title and (
                event := await self._title(thread, fallback_title(first_text), context)
            ):
                yield event
            raise CustomStreamError(str(exc), allow_retry=True) from None

        session, history = await asyncio.gather(
            SessionStateHandle.load(self.app_store, thread.id, context),
            self.load_history(thread, context),
        )
        turn = TurnContext(
            thread=thread,
            store=self.store,
            request_context=context,
            session=session,
            documents=Documents(self.app_store, context),
        )
        converter = HistoryConverter(
            attachments=self.files,
            context=context,
            include=newest_attachment_ids(
                history,
                self.settings.model_attachment_max_count,
                self.settings.model_attachment_max_bytes,
            ),
            image_input=self.settings.attachment_image_input,
            max_bytes=self.settings.model_attachment_max_bytes,
        )
        agent_input = await converter.to_agent_input(history)
        call = telemetry.model_call(context, option.model, option.provider, "answer")
        with call.active():
            result = Runner.run_streamed(
                self.agent, agent_input, context=turn, run_config=self._run_config(option)
            )
        # The title's model call starts once the answer's first text is out (or the answer
        # ended without any): started earlier, building and parsing it competed for the
        # CPU with the answer's first token.
        title_task: asyncio.Task[str] | None = None

        def start_title() -> None:
            nonlocal title_task
            if needs_title and title_task is None:
                title_task = asyncio.create_task(self._generate_title(option, first_text, context))

        try:
            error: CustomStreamError | None = None
            failure: Exception | None = None
            try:
                async for event in self._own_item_ids(stream_agent_response(turn, result), turn):
                    text = is_text_delta(event)
                    if call.awaiting_first_token and text:
                        call.first_token()
                    yield event
                    if text:
                        start_title()
                call.completed()
            except CustomStreamError as exc:
                error = failure = exc
            except Exception as exc:
                error = CustomStreamError(describe_model_error(exc), allow_retry=True)
                failure = exc
            finally:
                result.cancel()
                call.end(result.context_wrapper.usage, failure)
            if error is None:
                start_title()  # an answer without text still gets a title
            title: str | None = None
            if title_task is not None:
                title = await self._finish_title(title_task, first_text)
            elif needs_title:
                # The model just failed: no second call to it for a title.
                title = fallback_title(first_text)
            if title is not None and (event := await self._title(thread, title, context)):
                yield event
            if error is not None:
                raise error
        finally:
            # Reached with the task still pending only when the stream was cancelled.
            if title_task is not None and not title_task.done():
                title_task.cancel()

    async def load_history(self, thread: ThreadMetadata, context: RequestContext) -> list[Any]:
        """The newest HISTORY_LIMIT items, oldest first: recent context survives long threads."""
        page = await self.store.load_thread_items(
            thread.id, None, self.settings.history_limit, "desc", context
        )
        return list(reversed(page.data))

    def _run_config(self, option: ModelOption) -> RunConfig:
        return RunConfig(
            model=self.catalog.model(option),
            tracing_disabled=not self.catalog.tracing_enabled,
            workflow_name=f"chatkit:{self.use_case.name}",
        )

    async def _own_item_ids(
        self, events: AsyncIterator[ThreadStreamEvent], turn: TurnContext
    ) -> AsyncIterator[ThreadStreamEvent]:
        """Give assistant messages our time-sortable ids.

        The stream reuses the model's message ids, and the Chat Completions path uses
        one fixed placeholder id for every message: stored as-is they would collide
        and sort wrongly.
        """
        mapping: dict[str, str] = {}
        async for event in events:
            if isinstance(event, ThreadItemAddedEvent) and isinstance(
                event.item, AssistantMessageItem
            ):
                mapping[event.item.id] = turn.generate_id("message")
                event = ThreadItemAddedEvent(
                    item=event.item.model_copy(update={"id": mapping[event.item.id]})
                )
            elif isinstance(event, ThreadItemUpdatedEvent) and event.item_id in mapping:
                event = event.model_copy(update={"item_id": mapping[event.item_id]})
            elif isinstance(event, ThreadItemDoneEvent) and isinstance(
                event.item, AssistantMessageItem
            ):
                own_id = mapping.pop(event.item.id, None) or turn.generate_id("message")
                event = ThreadItemDoneEvent(item=event.item.model_copy(update={"id": own_id}))
            yield event

    # Titles

    async def _title(
        self, thread: ThreadMetadata, title: str, context: RequestContext
    ) -> ThreadUpdatedEvent | None:
        """Store a generated title unless the thread has one by now, and say so.

        The turn's `thread` was read when it started; the user may have renamed it
        since, so the title is written on its own, only where none is stored, and the
        turn's copy is left as read (ChatKit would otherwise save the whole copy back).
        """
        stored = await self.app_store.set_title_if_unset(thread.id, title, context)
        if stored is None:
            return None
        return ThreadUpdatedEvent(
            thread=self._to_thread_response(thread.model_copy(update={"title": stored}))
        )

    async def _generate_title(self, option: ModelOption, text: str, context: RequestContext) -> str:
        agent: Agent[Any] = Agent(name="Thread title", instructions=_TITLE_INSTRUCTIONS)
        with telemetry.model_call(context, option.model, option.provider, "title") as call:
            result = await Runner.run(agent, text[:2000], run_config=self._run_config(option))
            call.record_usage(result.context_wrapper.usage)
        title = " ".join(str(result.final_output).split()).strip("\"'“”. ")
        if not title:
            raise ValueError("empty title")
        return title[:_TITLE_MAX_CHARS]

    async def _finish_title(self, task: asyncio.Task[str], text: str) -> str:
        try:
            return await asyncio.wait_for(task, self.settings.title_timeout_seconds)
        except asyncio.CancelledError:
            task.cancel()
            raise
        except Exception as exc:  # the model is optional for titles
            logger.info(
                "Title generation failed (%s); using the message's first words", type(exc).__name__
            )
            return fallback_title(text)

    async def handle_stream_cancelled(
        self, thread: ThreadMetadata, pending_items: list[Any], context: RequestContext
    ) -> None:
        # Starlette cancels a disconnected stream through an anyio cancel scope, which
        # cancels every later await too: without a shield only the first write of the
        # clean-up (the partial answer) lands and the "user cancelled" note is lost.
        with anyio.CancelScope(shield=True):
            await super().handle_stream_cancelled(thread, pending_items, context)

    # Widget actions

    async def action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        handler = self.actions.get(action.type)
        if handler is None:
            raise CustomStreamError(
                f"This assistant does not know the action '{action.type[:80]}'.",
                allow_retry=False,
            )
        session = await SessionStateHandle.load(self.app_store, thread.id, context)
        action_context = ActionContext(
            thread=thread,
            request=context,
            session=session,
            store=self.app_store,
            documents=Documents(self.app_store, context),
        )
        async for event in handler(action_context, action, sender):
            yield event

    # Feedback

    async def add_feedback(
        self,
        thread_id: str,
        item_ids: list[str],
        feedback: FeedbackKind,
        context: RequestContext,
    ) -> None:
        found = await self.app_store.save_feedback(thread_id, item_ids, feedback, context)
        if item_ids and not found:
            raise NotFoundError("Item not found")
