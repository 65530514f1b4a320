"""User isolation, the remaining rows of the matrix (threads and items are covered in
test_e2e_bad_input.py): attachments on every route, Stop, and a widget action that names
another user's item from the caller's own thread. For each, Bob using Alice's id gets
exactly what an id that does not exist gets, and Alice's data is unchanged afterwards."""

from __future__ import annotations

import httpx

from tests.conftest import model_env
from tests.fake_model import Reply
from tests.test_e2e_attachments import PNG
from tests.test_e2e_bad_input import principal

MISSING_ATTACHMENT = "atc_01JZZZZZZZZZZZZZZZZZZZZZZZ"
MISSING_THREAD = "thr_01JZZZZZZZZZZZZZZZZZZZZZZZ"


def _same(a: httpx.Response, b: httpx.Response, what: str) -> None:
    assert a.status_code == b.status_code, (what, a.status_code, b.status_code, a.text)
    assert a.status_code in (404, 200), (what, a.status_code, a.text)
    assert a.content == b.content, (what, a.text, b.text)


def test_attachments_stop_and_foreign_items_look_like_missing_ones(
    start_host, fake_model, store_env
):
    host = start_host({**model_env(fake_model), **store_env, "AUTH_MODE": "platform"})
    alice_h = {"x-ms-client-principal": principal("alice")}
    bob_h = {"x-ms-client-principal": principal("bob")}
    alice = host.client("todo", **alice_h)
    bob = host.client("todo", **bob_h)

    # Alice: an uploaded (unsent) attachment, a sent one, a thread with a widget.
    pending = alice.call("attachments.create", name="a.png", size=len(PNG), mime_type="image/png")
    sent = alice.call("attachments.create", name="b.png", size=len(PNG), mime_type="image/png")
    for attachment in (pending, sent):
        upload = httpx.post(
            f"{host.url}/api/attachments/{attachment['id']}/upload",
            files={"file": ("x.png", PNG, "image/png")},
            headers=alice_h,
        )
        assert upload.status_code == 200, upload.text
    fake_model.script(Reply.call("show_todo_list"), Reply.say("Here."))
    stream = alice.stream(
        "threads.create",
        input={
            "content": [{"type": "input_text", "text": "my list"}],
            "attachments": [sent["id"]],
            "inference_options": {},
        },
    )
    thread_id = stream.thread_id
    widget = stream.done_items("widget")[0]

    def snapshot() -> tuple:
        items = alice.call("items.list", thread_id=thread_id, limit=50, order="asc")["data"]
        content = [
            httpx.get(f"{host.url}/api/attachments/{a['id']}/content", headers=alice_h)
            for a in (pending, sent)
        ]
        return (
            [i["id"] for i in items],
            [c.status_code for c in content],
            alice.call("threads.get_by_id", thread_id=thread_id)["title"],
        )

    before = snapshot()
    # The bytes, or (Blob) a redirect to a short-lived read URL.
    assert before[1] in ([200, 200], [302, 302])

    for attachment in (pending, sent):
        for method in ("POST", "PUT"):
            kwargs = (
                {"files": {"file": ("x.png", PNG, "image/png")}}
                if method == "POST"
                else {"content": PNG, "headers": {**bob_h, "content-type": "image/png"}}
            )
            headers = {} if method == "PUT" else {"headers": bob_h}
            foreign = httpx.request(
                method, f"{host.url}/api/attachments/{attachment['id']}/upload", **kwargs, **headers
            )
            missing = httpx.request(
                method,
                f"{host.url}/api/attachments/{MISSING_ATTACHMENT}/upload",
                **kwargs,
                **headers,
            )
            _same(foreign, missing, f"{method} upload")
        _same(
            httpx.get(f"{host.url}/api/attachments/{attachment['id']}/content", headers=bob_h),
            httpx.get(f"{host.url}/api/attachments/{MISSING_ATTACHMENT}/content", headers=bob_h),
            "content",
        )
        _same(
            bob.request("attachments.delete", attachment_id=attachment["id"]),
            bob.request("attachments.delete", attachment_id=MISSING_ATTACHMENT),
            "attachments.delete",
        )

    # Sending Alice's attachment in Bob's own message.
    with_foreign = bob.stream(
        "threads.create",
        input={"content": [{"type": "input_text", "text": "x"}], "attachments": [pending["id"]],
               "inference_options": {}},
    )  # fmt: skip
    with_missing = bob.stream(
        "threads.create",
        input={"content": [{"type": "input_text", "text": "x"}],
               "attachments": [MISSING_ATTACHMENT], "inference_options": {}},
    )  # fmt: skip
    assert with_foreign.status == with_missing.status == 404
    assert with_foreign.body == with_missing.body

    _same(
        bob.request("threads.stop_turn", thread_id=thread_id),
        bob.request("threads.stop_turn", thread_id=MISSING_THREAD),
        "threads.stop_turn",
    )

    # A widget action naming Alice's item from Bob's own thread.
    fake_model.script(Reply.say("Bob's thread."))
    own = bob.create_thread("mine").thread_id
    action = {"type": "todo.add", "payload": {"title": "pwned"}}
    foreign = bob.stream(
        "threads.custom_action", thread_id=own, item_id=widget["id"], action=action
    )
    missing = bob.stream("threads.custom_action", thread_id=own, item_id="msg_nope", action=action)
    assert foreign.status == missing.status == 404
    assert foreign.body == missing.body

    assert snapshot() == before
