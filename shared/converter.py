"""Thread items -> model input that both the Responses and Chat Completions paths accept.

ChatKit's default converter sends earlier assistant turns as `output_text` parts, which
the Agents SDK's Chat Completions path rejects on the second turn; plain string content
works on both. Widgets and hidden context reach the model as short text. Attachments
reach it as content: images as image input (SVG, which is XML, as text), PDFs as file
input, text files inline, within the request's attachment budget.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from agents import TResponseInputItem
from chatkit.agents import ThreadItemConverter
from chatkit.types import (
    AssistantMessageItem,
    Attachment,
    HiddenContextItem,
    UserMessageTagContent,
    WidgetItem,
)
from chatkit.widgets import WidgetComponentBase
from openai.types.responses import ResponseInputTextParam

from shared.attachments.policy import base_type

if TYPE_CHECKING:
    from openai.types.responses import ResponseInputContentParam

    from shared.attachments.base import AppAttachmentStore
    from shared.context import RequestContext
    from shared.settings import ImageInput

logger = logging.getLogger(__name__)

_TEXT_FIELDS = ("title", "value", "label", "text")
_MAX_WIDGET_TEXT = 2_000
_MAX_INLINE_TEXT = 100_000
_TEXT_TYPES = {"text/plain", "text/markdown", "text/csv", "application/json", "image/svg+xml"}
# UTF-8 needs at most 4 bytes a character: no more of a text file is ever read.
_INLINE_TEXT_BYTES = _MAX_INLINE_TEXT * 4


def attachment_cost(attachment: Attachment) -> int:
    """The bytes an attachment adds to a model request (before base64), as checked."""
    metadata = attachment.metadata or {}
    size = metadata.get("size", metadata.get("declared_size"))
    size = size if isinstance(size, int) and size > 0 else 0
    if base_type(attachment.mime_type) in _TEXT_TYPES:
        return min(size, _INLINE_TEXT_BYTES)
    return size


def widget_text(widget: WidgetComponentBase) -> str:
    """The human-readable text of a widget tree, in reading order."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, WidgetComponentBase):
            for name in _TEXT_FIELDS:
                value = getattr(node, name, None)
                if isinstance(value, str) and value.strip():
                    parts.append(value.strip())
            children = getattr(node, "children", None)
            if isinstance(children, list):
                for child in children:
                    walk(child)

    walk(widget)
    return " | ".join(parts)[:_MAX_WIDGET_TEXT]


def _user_text(text: str) -> TResponseInputItem:
    return {"type": "message", "role": "user", "content": text}


class HistoryConverter(ThreadItemConverter):
    """One per model request: it reads attachment bytes as the request's user.

    `include` names the attachments whose content is sent (the newest ones in the
    window that fit the budget); older ones are mentioned by name so a long thread does
    not re-send every image on every turn. Each attachment's content goes at most once
    per request, however many items carry it, and never past `max_bytes` in total.
    """

    def __init__(
        self,
        attachments: AppAttachmentStore | None = None,
        context: RequestContext | None = None,
        include: Collection[str] = (),
        image_input: ImageInput = "data_url",
        max_bytes: int | None = None,
    ):
        self.attachments = attachments
        self.context = context
        self.include = set(include)
        self.image_input = image_input
        self.remaining = max_bytes
        self.sent: set[str] = set()

    async def assistant_message_to_input(self, item: AssistantMessageItem) -> TResponseInputItem:
        text = "".join(part.text for part in item.content)
        return {"type": "message", "role": "assistant", "content": text}

    async def widget_to_input(self, item: WidgetItem) -> TResponseInputItem:
        shown = item.copy_text or widget_text(item.widget)
        return _user_text(f"[A widget (id {item.id}) was shown to the user; it displayed: {shown}]")

    async def hidden_context_to_input(self, item: HiddenContextItem) -> TResponseInputItem:
        content = item.content if isinstance(item.content, str) else json.dumps(item.content)
        return _user_text(f"<HiddenContext>\n{content}\n</HiddenContext>")

    async def tag_to_message_content(self, tag: UserMessageTagContent) -> ResponseInputTextParam:
        return {"type": "input_text", "text": f"@{tag.text}: {json.dumps(tag.data)[:1000]}"}

    async def attachment_to_message_content(
        self, attachment: Attachment
    ) -> ResponseInputContentParam:
        mentioned: ResponseInputTextParam = {
            "type": "input_text",
            "text": f"[The user attached '{attachment.name}' ({attachment.mime_type})]",
        }
        if attachment.id in self.sent:
            return {
                "type": "input_text",
                "text": f"[The user attached '{attachment.name}' again (its content is above)]",
            }
        if self.attachments is None or self.context is None or attachment.id not in self.include:
            return mentioned
        if self.remaining is not None and attachment_cost(attachment) > self.remaining:
            return mentioned
        try:
            content, cost = await self._content(attachment, self.attachments, self.context)
            if self.remaining is not None:
                if cost > self.remaining:  # its checked size was unknown (older metadata)
                    return mentioned
                self.remaining -= cost
            self.sent.add(attachment.id)
            return content
        except (FileNotFoundError, OSError, ValueError) as exc:
            logger.warning("Attachment %s unreadable: %s", attachment.id, type(exc).__name__)
        except Exception as exc:  # a missing blob must not fail the whole turn
            logger.warning("Attachment %s unreadable: %s", attachment.id, type(exc).__name__)
        return {
            "type": "input_text",
            "text": f"[The user attached '{attachment.name}', which is no longer available]",
        }

    async def _content(
        self, attachment: Attachment, files: AppAttachmentStore, context: RequestContext
    ) -> tuple[ResponseInputContentParam, int]:
        """The attachment as model input, and the bytes it adds to the request."""
        kind = base_type(attachment.mime_type)
        if kind in _TEXT_TYPES:
            data = await files.read(attachment, context, max_bytes=_INLINE_TEXT_BYTES)
            text = data.decode("utf-8", errors="replace")[:_MAX_INLINE_TEXT]
            return {
                "type": "input_text",
                "text": f"Contents of the attached file '{attachment.name}':\n{text}",
            }, len(data)
        if kind.startswith("image/"):
            if self.image_input == "url":
                url = await files.read_url(attachment, context)
                if url is not None:
                    image: ResponseInputContentParam = {
                        "type": "input_image",
                        "image_url": url,
                        "detail": "auto",
                    }
                    return image, attachment_cost(attachment)
            data = await files.read(attachment, context)
            return {
                "type": "input_image",
                "image_url": _data_url(kind, data),
                "detail": "auto",
            }, len(data)
        data = await files.read(attachment, context)
        return {
            "type": "input_file",
            "file_data": _data_url(kind, data),
            "filename": attachment.name,
        }, len(data)


def _data_url(mime_type: str, data: bytes) -> str:
    return f"data:{mime_type};base64,{base64.b64encode(data).decode()}"
