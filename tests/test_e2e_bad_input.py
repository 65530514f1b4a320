"""Bad input gets a clear 4xx JSON answer and changes nothing stored; other users'
ids answer exactly like missing ones, streaming requests included."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from tests.chatkit_client import user_input
from tests.conftest import model_env


def principal(user_id: str) -> str:
    data = {
        "identityProvider": "aad",
        "userId": user_id,
        "userDetails": f"{user_id}@x",
        "userRoles": ["authenticated"],
    }
    return base64.b64encode(json.dumps(data).encode()).decode()


@pytest.fixture
def small_host(start_host, fake_model):
    return start_host({**model_env(fake_model), "MAX_REQUEST_BYTES": "4096"})


def _snapshot(client, thread_id):
    return client.call("threads.get_by_id", thread_id=thread_id), client.items(thread_id)


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"not json at all", 400, "not valid JSON"),
        (b"", 400, "empty"),
        (b"[1, 2]", 400, "JSON object"),
        (b'{"params": {}}', 400, "no 'type'"),
        (b'{"type": "threads.explode", "params": {}}', 400, "Unknown ChatKit request type"),
        (b'{"type": "threads.get_by_id", "params": {}}', 400, "thread_id"),
        (b'{"type": "threads.add_user_message", "params": {"thread_id": "x"}}', 400, "input"),
        (b'{"type": "threads.list", "params": {"limit": "many"}}', 400, "limit"),
        (
            json.dumps({"type": "threads.list", "params": {"x": "y" * 5000}}).encode(),
            413,
            "larger than the limit",
        ),
        (
            b'{"type": "attachments.create", "params": {"name": "a.exe", "size": 3, '
            b'"mime_type": "application/x-msdownload"}}',
            400,
            "cannot be attached",
        ),
        (
            b'{"type": "attachments.create", "params": {"name": "big.png", "size": 999999999, '
            b'"mime_type": "image/png"}}',
            413,
            "the limit is",
        ),
    ],
    ids=[
        "non-json",
        "empty",
        "array",
        "no-type",
        "unknown-type",
        "missing-field",
        "missing-input",
        "wrong-type",
        "oversized",
        "attachment-type",
        "attachment-size",
    ],
)
def test_bad_input_is_4xx_json_and_changes_nothing(small_host, body, status, fragment):
    client = small_host.client()
    thread_id = client.create_thread("keep me").thread_id
    before = _snapshot(client, thread_id)

    response = client.post_raw(body)

    assert response.status_code == status
    error = response.json()["error"]
    assert fragment in error["message"]
    assert "Traceback" not in response.text
    assert _snapshot(client, thread_id) == before


def test_wrong_content_type_is_415(small_host):
    response = httpx.post(
        small_host.url + "/api/chatkit",
        content=b"a=b",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]["message"]


def test_unknown_use_case_is_404(small_host):
    response = small_host.client("no-such-thing").request("threads.list")
    assert response.status_code == 404
    assert "Unknown use case" in response.json()["error"]["message"]


def test_unknown_and_foreign_ids_look_the_same(start_host, fake_model, store_env):
    host = start_host({**model_env(fake_model), **store_env, "AUTH_MODE": "platform"})
    alice = host.client(**{"x-ms-client-principal": principal("alice")})
    bob = host.client(**{"x-ms-client-principal": principal("bob")})
    stream = alice.create_thread("Alice's secret plan")
    thread_id = stream.thread_id
    item_id = stream.done_items("user_message")[0]["id"]
    before = _snapshot(alice, thread_id)

    def attempts(tid, iid):
        return [
            ("threads.get_by_id", {"thread_id": tid}),
            ("items.list", {"thread_id": tid}),
            ("threads.update", {"thread_id": tid, "title": "pwned"}),
            ("items.feedback", {"thread_id": tid, "item_ids": [iid], "kind": "negative"}),
            ("threads.add_user_message", {"thread_id": tid, "input": user_input("hi")}),
            ("threads.retry_after_item", {"thread_id": tid, "item_id": iid}),
            (
                "threads.custom_action",
                {
                    "thread_id": tid,
                    "item_id": iid,
                    "action": {"type": "clock.refresh", "payload": {}},
                },
            ),
        ]

    for (kind, foreign), (_, missing) in zip(
        attempts(thread_id, item_id),
        attempts("thr_01JZZZZZZZZZZZZZZZZZZZZZZZ", "msg_nope"),
        strict=True,
    ):
        a = bob.stream(kind, **foreign)
        b = bob.stream(kind, **missing)
        assert a.status == b.status == 404, (kind, a.status, a.body)
        assert a.body == b.body and a.body["error"]["code"] == "not_found", kind

    # Deleting someone else's thread is a no-op that looks like success either way.
    assert bob.request("threads.delete", thread_id=thread_id).status_code == 200
    assert bob.call("threads.list")["data"] == []
    assert _snapshot(alice, thread_id) == before


def test_platform_mode_requires_a_principal(start_host, fake_model):
    host = start_host({**model_env(fake_model), "AUTH_MODE": "platform"})
    for headers in (
        {},
        {"x-ms-client-principal": "%%%not-base64"},
        {"x-ms-client-principal": base64.b64encode(b'{"userId": ""}').decode()},
    ):
        response = host.client(**headers).request("threads.list")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
    assert httpx.get(host.url + "/api/config").status_code == 401
    assert httpx.get(host.url + "/api/health").status_code == 200
