"""A small ChatKit protocol client over real HTTP, reading SSE as it arrives."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Stream:
    status: int
    headers: httpx.Headers
    events: list[dict[str, Any]] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)  # seconds since request start
    body: Any = None  # JSON body when the server refused before streaming

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == kind]

    @property
    def thread_id(self) -> str:
        return self.of_type("thread.created")[0]["thread"]["id"]

    @property
    def text(self) -> str:
        return "".join(
            e["update"]["delta"]
            for e in self.events
            if e.get("type") == "thread.item.updated"
            and e["update"].get("type") == "assistant_message.content_part.text_delta"
        )

    def delta_arrivals(self) -> list[float]:
        return [
            t
            for t, e in zip(self.arrivals, self.events, strict=True)
            if e.get("type") == "thread.item.updated"
            and e["update"].get("type") == "assistant_message.content_part.text_delta"
        ]

    def done_items(self, item_type: str) -> list[dict[str, Any]]:
        return [
            e["item"] for e in self.of_type("thread.item.done") if e["item"]["type"] == item_type
        ]

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.of_type("error")


def user_input(text: str, model: str | None = None) -> dict[str, Any]:
    options = {"model": model} if model else {}
    return {
        "content": [{"type": "input_text", "text": text}],
        "attachments": [],
        "inference_options": options,
    }


class ChatKitClient:
    def __init__(
        self, base_url: str, use_case: str | None = None, headers: dict[str, str] | None = None
    ):
        self.base_url = base_url
        self.path = "/api/chatkit" + (f"/{use_case}" if use_case else "")
        self.headers = {"content-type": "application/json", **(headers or {})}

    def post_raw(self, body: bytes | str, **headers: str) -> httpx.Response:
        return httpx.post(
            self.base_url + self.path, content=body, headers={**self.headers, **headers}, timeout=30
        )

    def request(self, request_type: str, /, **params: Any) -> httpx.Response:
        return self.post_raw(json.dumps({"type": request_type, "params": params}))

    def call(self, request_type: str, /, **params: Any) -> Any:
        response = self.request(request_type, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def stream(self, request_type: str, /, **params: Any) -> Stream:
        body = json.dumps({"type": request_type, "params": params})
        start = time.perf_counter()
        with httpx.stream(
            "POST", self.base_url + self.path, content=body, headers=self.headers, timeout=30
        ) as response:
            result = Stream(status=response.status_code, headers=response.headers)
            if not response.headers.get("content-type", "").startswith("text/event-stream"):
                response.read()
                result.body = response.json()
                return result
            for line in response.iter_lines():
                if line.startswith("data: "):
                    result.events.append(json.loads(line[6:]))
                    result.arrivals.append(time.perf_counter() - start)
        return result

    # Conveniences for the common requests

    def create_thread(self, text: str, model: str | None = None) -> Stream:
        return self.stream("threads.create", input=user_input(text, model))

    def add_message(self, thread_id: str, text: str, model: str | None = None) -> Stream:
        return self.stream(
            "threads.add_user_message", thread_id=thread_id, input=user_input(text, model)
        )

    def items(self, thread_id: str, **params: Any) -> list[dict[str, Any]]:
        return self.call("items.list", thread_id=thread_id, **params)["data"]
