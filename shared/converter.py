"""Thread items -> model input that both the Responses and Chat Completions paths accept.

ChatKit's default converter sends earlier assistant turns as `output_text` parts, which
the Agents SDK's Chat Completions path rejects on the second turn; plain string content
works on both. Widgets and hidden context reach the model as short text.
"""

from __future__ import annotations

import json
from typing import Any

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

_TEXT_FIELDS = ("title", "value", "label", "text")
_MAX_WIDGET_TEXT = 2_000


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

    async def attachment_to_message_content(self, attachment: Attachment) -> ResponseInputTextParam:
        # Attachment bytes are not sent yet: the model is told what was attached.
        return {
            "type": "input_text",
            "text": f"[The user attached '{attachment.name}' ({attachment.mime_type})]",
        }
