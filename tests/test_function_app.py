"""The Function app's handlers called directly, as the Functions host would call them."""

from __future__ import annotations

import json

import pytest
from starlette.requests import Request

from tests.chatkit_client import user_input
from tests.fake_model import Reply


def _functions():
    import function_app

    function_app.app.functions_bindings = None
    return {f.get_function_name(): f for f in function_app.app.get_functions()}


def _request(method: str, path: str, body: bytes = b"", path_params=None, headers=None):
    raw_headers = [(b"content-type", b"application/json")]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": raw_headers,
        "query_string": b"",
        "path_params": path_params or {},
        # The peer, as the local host and the Functions worker pass it: AUTH_MODE=local
        # serves loopback peers only.
        "client": ("127.0.0.1", 50000),
    }
    return Request(scope, receive)


async def _drain(response) -> list[dict]:
    events = []
    async for chunk in response.body_iterator:
        text = chunk.decode() if isinstance(chunk, bytes) else chunk
        events += [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]
    return events


def test_routes_are_declared_with_streaming_types():
    functions = _functions()
    routes = {
        name: (f.get_trigger().route, [m.value for m in f.get_trigger().methods])
        for name, f in functions.items()
    }
    assert routes == {
        "chatkit": ("chatkit", ["POST"]),
        "chatkit_use_case": ("chatkit/{use_case}", ["POST"]),
        "attachment_upload": ("attachments/{attachment_id}/upload", ["POST", "PUT"]),
        "attachment_content": ("attachments/{attachment_id}/content", ["GET"]),
        "config": ("config", ["GET"]),
        "health": ("health", ["GET"]),
    }


async def test_direct_calls_stream_and_answer(in_process, fake_model):
    functions = _functions()
    chatkit = functions["chatkit_use_case"].get_user_function()
    fake_model.script(Reply.say("Direct", " answer"))
    body = json.dumps({"type": "threads.create", "params": {"input": user_input("hi")}})

    response = await chatkit(
        _request("POST", "/api/chatkit/assistant", body.encode(), {"use_case": "assistant"})
    )

    assert response.media_type == "text/event-stream"
    events = await _drain(response)
    thread_id = events[0]["thread"]["id"]
    deltas = [
        e["update"]["delta"]
        for e in events
        if e["type"] == "thread.item.updated"
        and e["update"]["type"] == "assistant_message.content_part.text_delta"
    ]
    assert "".join(deltas) == "Direct answer"

    listed = await functions["chatkit"].get_user_function()(
        _request("POST", "/api/chatkit", b'{"type": "threads.list", "params": {}}')
    )
    assert [t["id"] for t in json.loads(listed.body)["data"]] == [thread_id]

    health = await functions["health"].get_user_function()(_request("GET", "/api/health"))
    assert json.loads(health.body)["store"] == {"kind": "sqlite"}
    config = await functions["config"].get_user_function()(_request("GET", "/api/config"))
    assert json.loads(config.body)["use_cases"][0]["name"] == "assistant"


async def test_missing_thread_is_404_before_the_stream(in_process):
    chatkit = _functions()["chatkit"].get_user_function()
    body = json.dumps(
        {
            "type": "threads.add_user_message",
            "params": {"thread_id": "thr_missing", "input": user_input("x")},
        }
    )
    response = await chatkit(_request("POST", "/api/chatkit", body.encode()))
    assert response.status_code == 404
    assert json.loads(response.body)["error"]["message"] == "Thread not found."


async def test_invalid_settings_are_a_clear_500(in_process, monkeypatch):
    from shared.runtime import reset_runtime

    monkeypatch.setenv("MODEL_API", "telepathy")
    await reset_runtime()
    response = await _functions()["health"].get_user_function()(_request("GET", "/api/health"))
    assert response.status_code == 500
    body = json.loads(response.body)["error"]
    assert body["code"] == "configuration_error"
    assert "MODEL_API" in body["message"] and "responses" in body["message"]


@pytest.mark.parametrize("path", ["/api/chatkit", "/api/chatkit/assistant"])
async def test_body_limit_applies_without_content_length(in_process, monkeypatch, path):
    from shared.runtime import reset_runtime

    monkeypatch.setenv("MAX_REQUEST_BYTES", "2048")
    await reset_runtime()
    chatkit = _functions()["chatkit"].get_user_function()
    response = await chatkit(_request("POST", path, b"{" + b" " * 5000 + b"}"))
    assert response.status_code == 413


async def test_store_outage_is_a_retryable_503(in_process, monkeypatch):
    from shared.errors import StoreUnavailable
    from shared.runtime import get_runtime

    async def busy(*args, **kwargs):
        raise StoreUnavailable("Cosmos DB threads.list: status 429")

    monkeypatch.setattr(get_runtime().store, "load_threads", busy)
    chatkit = _functions()["chatkit"].get_user_function()
    response = await chatkit(
        _request("POST", "/api/chatkit", b'{"type": "threads.list", "params": {}}')
    )
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    body = json.loads(response.body)["error"]
    assert body["code"] == "store_unavailable" and "429" not in body["message"]
