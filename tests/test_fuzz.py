"""Generated ChatKit requests, valid and broken, thrown at the running app over HTTP.

Whatever arrives, the answer is a 2xx or 4xx with a JSON body, or a well-formed SSE stream
(every event parses, the stream ends); never a 500, never a traceback. Afterwards the
store still answers for every thread, and a thread made before the barrage is intact.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import model_env

REQUEST_TYPES = [
    "threads.get_by_id", "threads.create", "threads.list", "threads.add_user_message",
    "threads.add_client_tool_output", "threads.custom_action", "threads.sync_custom_action",
    "threads.retry_after_item", "threads.update", "threads.delete", "threads.stop_turn",
    "items.list", "items.feedback", "attachments.create", "attachments.delete",
    "input.transcribe", "threads.nonsense", "", "THREADS.LIST",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
ids = st.one_of(
    st.sampled_from(["thr_01JZZZZZZZZZZZZZZZZZZZZZZZ", "msg_nope", "", "../../etc", "THREAD"]),
    st.text(max_size=40),
    st.integers(),
    st.none(),
)
texts = st.text(max_size=300)
user_inputs = st.fixed_dictionaries(
    {
        "content": st.lists(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["input_text", "input_tag", "image"]), "text": texts}
            ),
            max_size=3,
        ),
        "attachments": st.lists(ids, max_size=3),
        "inference_options": st.fixed_dictionaries(
            {}, optional={"model": st.one_of(st.none(), st.text(max_size=30))}
        ),
    },
    optional={"quoted_text": st.one_of(st.none(), texts)},
)
params = st.fixed_dictionaries(
    {},
    optional={
        "thread_id": ids,
        "item_id": ids,
        "item_ids": st.lists(ids, max_size=3),
        "input": st.one_of(user_inputs, json_values),
        "action": st.one_of(
            st.fixed_dictionaries({"type": st.text(max_size=30), "payload": json_values}),
            json_values,
        ),
        "title": st.one_of(texts, st.integers()),
        "limit": st.integers(min_value=-5, max_value=10_000),
        "order": st.sampled_from(["asc", "desc", "sideways"]),
        "after": ids,
        "kind": st.sampled_from(["positive", "negative", "meh"]),
        "name": st.text(max_size=300),
        "size": st.integers(min_value=-10, max_value=10**12),
        "mime_type": st.sampled_from(["image/png", "application/pdf", "text/html", "", "x/y"]),
        "attachment_id": ids,
        "result": json_values,
    },
)
requests = st.one_of(
    st.builds(
        lambda kind, p, meta: {"type": kind, "params": p, **meta},
        st.sampled_from(REQUEST_TYPES),
        params,
        st.fixed_dictionaries({}, optional={"metadata": json_values}),
    ),
    json_values,
)
raw_bodies = st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode))


def _check(response: httpx.Response, seen: Counter[str]) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    assert "Traceback" not in response.text
    kind = response.headers.get("content-type", "")
    seen["stream" if kind.startswith("text/event-stream") else str(response.status_code)] += 1
    if kind.startswith("text/event-stream"):
        assert response.status_code == 200
        # SSE lines end only at \r or \n (str.splitlines would also split at U+0085 etc.).
        lines = re.split(r"\r\n|\r|\n", response.text)
        events = [line[6:] for line in lines if line.startswith("data: ")]
        assert events, "an empty stream"
        for data in events:
            assert isinstance(json.loads(data)["type"], str)
    else:
        assert kind.startswith("application/json"), kind
        body = response.json()
        if response.status_code >= 400:
            assert set(body) == {"error"} and body["error"]["message"]


def test_generated_requests_never_break_the_app(start_host, fake_model):
    host = start_host({**model_env(fake_model), "THREADS_PER_MINUTE": "0"})
    client = host.client()
    keeper = client.create_thread("keep me").thread_id
    kept = json.dumps(client.items(keeper, order="asc"))
    url = f"{host.url}/api/chatkit"
    seen: Counter[str] = Counter()

    with httpx.Client(timeout=30) as http:

        @settings(
            max_examples=250,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(body=requests)
        def structured(body: Any) -> None:
            _check(http.post(url, json=body), seen)

        @settings(max_examples=80, deadline=None)
        @given(body=raw_bodies)
        def raw(body: bytes) -> None:
            _check(http.post(url, content=body, headers={"content-type": "application/json"}), seen)

        # Mostly valid requests on a real thread of the caller's, to get past validation.
        real_thread = client.create_thread("fuzz target").thread_id
        real_items = [i["id"] for i in client.items(real_thread)]
        known_ids = st.sampled_from([real_thread, *real_items, "msg_missing"])
        text_inputs = st.builds(
            lambda text, model: {
                "content": [{"type": "input_text", "text": text}],
                "attachments": [],
                "inference_options": {"model": model},
            },
            st.text(min_size=1, max_size=200),
            st.one_of(st.none(), st.text(max_size=10)),
        )
        near_valid = st.one_of(
            st.builds(lambda i: {"type": "threads.create", "params": {"input": i}}, text_inputs),
            st.builds(
                lambda i: {
                    "type": "threads.add_user_message",
                    "params": {"thread_id": real_thread, "input": i},
                },
                text_inputs,
            ),
            st.builds(
                lambda item, kind, payload: {
                    "type": "threads.custom_action",
                    "params": {
                        "thread_id": real_thread,
                        "item_id": item,
                        "action": {"type": kind, "payload": payload},
                    },
                },
                known_ids,
                st.sampled_from(["clock.refresh", "clock.select_timezone", "x.y", ""]),
                json_values,
            ),
            st.builds(
                lambda item: {
                    "type": "threads.retry_after_item",
                    "params": {"thread_id": real_thread, "item_id": item},
                },
                known_ids,
            ),
            st.builds(
                lambda title: {
                    "type": "threads.update",
                    "params": {"thread_id": real_thread, "title": title},
                },
                st.text(max_size=300),
            ),
        )

        @settings(
            max_examples=60,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(body=near_valid)
        def almost(body: Any) -> None:
            _check(http.post(url, json=body), seen)

        structured()
        raw()
        almost()
        # The barrage reached past validation: real turns streamed, lookups answered.
        assert seen["stream"] >= 5 and seen["200"] >= 5 and seen["400"] >= 50, seen
        print(dict(seen))

        # The store still answers for every thread, and the first one is untouched unless
        # a generated request legitimately named it (its id was never generated).
        page = client.call("threads.list", limit=100)
        for thread in page["data"]:
            assert client.request("items.list", thread_id=thread["id"]).status_code == 200
        assert json.dumps(client.items(keeper, order="asc")) == kept
