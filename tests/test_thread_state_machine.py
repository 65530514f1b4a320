"""One turn per thread, across instances: a stateful property test over real HTTP.

Two local hosts share one store (SQLite: one data directory; Cosmos DB + Blob: one
database and container), as two scaled-out Functions instances would. A hypothesis
rule-based state machine plays several clients against them: it creates threads, sends
messages whose answers stream slowly (so requests on one thread overlap, on either
instance), retries, stops, renames, deletes and clicks a to-do widget. Streaming
requests run in the background; renames, stops and deletes wait for their answer.

Once every request of a run has ended, the store is read back through the API and
checked: a deleted thread stays deleted and leaves no items; no item id appears twice;
every accepted user message is stored exactly once and a refused one not at all; one
user message has at most one answer and no answer outlives its message; a stopped or
finished answer is kept; a title set by the user is kept. A second streaming request
may be refused with 409 `thread_busy` (and `Retry-After`) or wait and run after the
first: both are accepted, a duplicate never is. Nothing here asserts that a race
happened, only that none did harm, so a run cannot fail by luck of timing.

The search is derandomized (the same runs every time). Its default size (8 runs of at
most 8 steps per store) is for CI, and the races it found on main are also replayed
as fixed sequences (`PINNED`) so CI always tries them. A longer search, which prints
which races it produced:

    STATE_MACHINE_EXAMPLES=200 STATE_MACHINE_STEPS=20 .venv/bin/python -m pytest \\
        -q -s -p no:cacheprovider tests/test_thread_state_machine.py -k across_instances
"""

from __future__ import annotations

import itertools
import json
import os
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for_futures
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.conftest import LocalHost, cosmos_env, model_env
from tests.fake_model import FakeModel, Recorded, Reply
from tests.test_e2e_bad_input import principal

EXAMPLES = int(os.environ.get("STATE_MACHINE_EXAMPLES", "8"))
STEPS = int(os.environ.get("STATE_MACHINE_STEPS", "8"))

# Each answer streams this many words this far apart (~0.5 s): long enough that the
# next rule's request lands while it is still streaming. A slow answer (~4 s) outlasts
# how long a second request may reasonably wait for the thread (shared/turn_lease.py
# waits 3 s), so the one behind it is refused; only longer runs send those.
_WORDS = [f"w{n} " for n in range(6)]
_DELTA_SECONDS = 0.08
_SLOW_DELTA_SECONDS = 0.8
# A user message is its marker; "s" marks one whose answer is slow.
_MARKER = re.compile(r"msg[qs][0-9a-f]{10}")
_ANSWER = re.compile(r"^re:(msg[qs][0-9a-f]{10}|none)")
_HOSTS = st.sampled_from([0, 1])
_SLOW = st.booleans() if EXAMPLES > 8 else st.just(False)
# After the last stream ends, what a host may still be finishing (a title, a write behind).
_SETTLE_SECONDS = 0.3


def _answer(recorded: Recorded) -> Reply:
    """Every answer names the user message it answers: the newest one the model saw."""
    body = recorded.body
    messages = body.get("messages") or body.get("input") or []
    markers = [
        marker
        for message in messages
        if isinstance(message, dict) and message.get("role") == "user"
        for marker in _MARKER.findall(json.dumps(message.get("content")))
    ]
    if not markers:
        return Reply.say("re:none ", *_WORDS, delay=_DELTA_SECONDS)
    slow = markers[-1].startswith("msgs")
    delay = _SLOW_DELTA_SECONDS if slow else _DELTA_SECONDS
    return Reply.say(f"re:{markers[-1]} ", *_WORDS, delay=delay)


@dataclass
class Call:
    """One streaming request, run in the background."""

    kind: str  # create | add | retry | action
    host: int
    thread_id: str | None
    marker: str | None = None  # the user message this request's answer answers
    target: str | None = None  # retry: the user message; action: the widget item
    started: float = 0.0
    ended: float | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    events: list[dict[str, Any]] = field(default_factory=list)
    failure: str | None = None
    user_item: str | None = None  # the user message item it streamed
    widget_items: list[str] = field(default_factory=list)
    # Set once the thread id is known, and once the request is under way (for create and
    # add: its user message streamed), or the call ended.
    thread_known: threading.Event = field(default_factory=threading.Event)
    progressed: threading.Event = field(default_factory=threading.Event)

    @property
    def text(self) -> str:
        return "".join(
            e["update"]["delta"]
            for e in self.events
            if e.get("type") == "thread.item.updated"
            and e["update"].get("type") == "assistant_message.content_part.text_delta"
        )

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == "error"]

    @property
    def accepted(self) -> bool:
        """Answered 200 and streamed what it adds (user message, widget)."""
        if self.status != 200 or self.failure:
            return False
        if self.kind in ("create", "add"):
            return self.user_item is not None
        if self.kind == "action":
            return bool(self.widget_items)
        return True

    def __str__(self) -> str:
        return (
            f"{self.kind}@host{self.host} on {self.thread_id} (marker {self.marker}, "
            f"target {self.target}) -> {self.status} {self.failure or ''}"
        )


@dataclass
class Simple:
    """A request that waits for its answer: rename, stop, delete."""

    kind: str
    host: int
    thread_id: str
    started: float
    ended: float
    status: int
    body: Any
    title: str | None = None


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]


class ThreadMachine(RuleBasedStateMachine):
    threads = Bundle("threads")

    def __init__(self, hosts: list[LocalHost], seen: Counter[str]):
        super().__init__()
        self.hosts = hosts
        self.seen = seen
        # A user of its own per run: runs share the hosts and the store, not threads.
        self.user = f"sm-{uuid.uuid4().hex[:12]}"
        self.headers = {
            "content-type": "application/json",
            "x-ms-client-principal": principal(self.user),
        }
        self.pool = ThreadPoolExecutor(max_workers=16)
        self.futures: list[Future[None]] = []
        self.calls: list[Call] = []
        self.simple: list[Simple] = []
        self.thread_ids: list[str] = []
        self.names = itertools.count(1)
        self.lock = threading.Lock()

    # Plumbing

    def _url(self, host: int) -> str:
        return f"{self.hosts[host].url}/api/chatkit/todo"

    def _post(self, host: int, kind: str, **params: Any) -> httpx.Response:
        return httpx.post(
            self._url(host),
            content=json.dumps({"type": kind, "params": params}),
            headers=self.headers,
            timeout=30,
        )

    def _stream(self, call: Call, request_type: str, params: dict[str, Any]) -> None:
        call.started = time.monotonic()
        body = json.dumps({"type": request_type, "params": params})
        try:
            with httpx.stream(
                "POST", self._url(call.host), content=body, headers=self.headers, timeout=30
            ) as response:
                call.status = response.status_code
                call.headers = dict(response.headers)
                if call.kind not in ("create", "add"):
                    call.progressed.set()  # adds no user message: under way is enough
                if not response.headers.get("content-type", "").startswith("text/event-stream"):
                    response.read()
                    call.body = _json(response)
                    return
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        self._event(call, json.loads(line[6:]))
        except Exception as exc:  # recorded: a transport failure is itself a finding
            call.failure = f"{type(exc).__name__}: {exc}"
        finally:
            call.ended = time.monotonic()
            call.thread_known.set()
            call.progressed.set()

    @staticmethod
    def _event(call: Call, event: dict[str, Any]) -> None:
        call.events.append(event)
        kind = event.get("type")
        if kind == "thread.created":
            call.thread_id = event["thread"]["id"]
            call.thread_known.set()
        elif kind in ("thread.item.done", "thread.item.replaced"):
            item = event["item"]
            if item["type"] == "user_message":
                call.user_item = item["id"]
                call.progressed.set()
            elif item["type"] == "widget":
                call.widget_items.append(item["id"])

    def _start(self, call: Call, request_type: str, **params: Any) -> Call:
        with self.lock:
            self.calls.append(call)
        self.futures.append(self.pool.submit(self._stream, call, request_type, params))
        return call

    def _simple(self, kind: str, host: int, thread_id: str, **params: Any) -> Simple:
        started = time.monotonic()
        response = self._post(host, kind, thread_id=thread_id, **params)
        done = Simple(
            kind, host, thread_id, started, time.monotonic(), response.status_code, _json(response)
        )
        done.title = params.get("title")
        self.simple.append(done)
        return done

    def _marker(self, slow: bool = False) -> str:
        return ("msgs" if slow else "msgq") + uuid.uuid4().hex[:10]

    def _user_input(self, marker: str) -> dict[str, Any]:
        return {
            "content": [{"type": "input_text", "text": marker}],
            "attachments": [],
            "inference_options": {},
        }

    def _on(self, thread_id: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.thread_id == thread_id]

    def _create(self, host: int) -> Any:
        marker = self._marker()
        call = self._start(
            Call("create", host, None, marker=marker),
            "threads.create",
            input=self._user_input(marker),
        )
        call.thread_known.wait(15)
        if call.thread_id is None:
            return multiple()  # recorded; the checks report it
        self.thread_ids.append(call.thread_id)
        return call.thread_id

    # Rules

    @initialize(target=threads, host=_HOSTS)
    def first_thread(self, host: int) -> Any:
        return self._create(host)

    # A few threads at most: requests spread over many threads would rarely overlap.
    @precondition(lambda self: len(self.thread_ids) < 3)
    @rule(target=threads, host=_HOSTS)
    def create_thread(self, host: int) -> Any:
        return self._create(host)

    @rule(thread=threads, host=_HOSTS, slow=_SLOW)
    def add_message(self, thread: str, host: int, slow: bool) -> None:
        marker = self._marker(slow)
        self._start(
            Call("add", host, thread, marker=marker),
            "threads.add_user_message",
            thread_id=thread,
            input=self._user_input(marker),
        )

    @rule(thread=threads, host=_HOSTS, pick=st.integers(0, 7))
    def retry(self, thread: str, host: int, pick: int) -> None:
        # Retry a user message that some request on this thread has streamed.
        for call in self._on(thread):
            call.progressed.wait(10)
        targets = [c for c in self._on(thread) if c.kind in ("create", "add") and c.accepted]
        if not targets:
            return
        chosen = targets[pick % len(targets)]
        self._start(
            Call("retry", host, thread, marker=chosen.marker, target=chosen.user_item),
            "threads.retry_after_item",
            thread_id=thread,
            item_id=chosen.user_item,
        )

    @rule(thread=threads, host=_HOSTS, on_widget=st.booleans())
    def custom_action(self, thread: str, host: int, on_widget: bool) -> None:
        widgets = [w for c in self._on(thread) if c.kind == "action" for w in c.widget_items]
        params: dict[str, Any] = {
            "thread_id": thread,
            "action": {"type": "todo.add", "payload": {"title": f"task {next(self.names)}"}},
        }
        target = widgets[-1] if on_widget and widgets else None
        if target:
            params["item_id"] = target
        self._start(Call("action", host, thread, target=target), "threads.custom_action", **params)

    @rule(thread=threads, host=_HOSTS)
    def stop(self, thread: str, host: int) -> None:
        self._simple("threads.stop_turn", host, thread)

    @rule(thread=threads, host=_HOSTS)
    def rename(self, thread: str, host: int) -> None:
        self._simple("threads.update", host, thread, title=f"User title {next(self.names)}")

    @rule(thread=threads, host=_HOSTS)
    def delete(self, thread: str, host: int) -> None:
        self._simple("threads.delete", host, thread)

    @rule()
    def wait_for_in_flight(self) -> None:
        wait_for_futures(self.futures, timeout=60)

    @rule(seconds=st.sampled_from([0.1, 0.3]))
    def let_streams_run(self, seconds: float) -> None:
        time.sleep(seconds)

    # The checks, once every request has ended

    def teardown(self) -> None:
        try:
            _, hung = wait_for_futures(self.futures, timeout=90)
            assert not hung, f"{len(hung)} requests never ended"
            time.sleep(_SETTLE_SECONDS)
            self.seen["runs"] += 1
            self._note_what_happened()
            self.check()
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _note_what_happened(self) -> None:
        """Which races a run produced (printed at the end; `pytest -s` shows it), so a
        longer run shows what it exercised; no check depends on them."""

        def during_stream(s: Simple) -> bool:
            return any(
                c.thread_id == s.thread_id
                and c.status == 200
                and c.started < s.ended
                and (c.ended or 0) > s.started
                for c in self.calls
            )

        if any(c.status == 409 for c in self.calls):
            self.seen["a streaming request was refused with 409"] += 1
        for kind in ("threads.delete", "threads.update", "threads.stop_turn"):
            if any(s.kind == kind and s.status == 200 and during_stream(s) for s in self.simple):
                self.seen[f"{kind} during a stream on its thread"] += 1
        overlapping = [
            (a, b)
            for a, b in itertools.combinations(self.calls, 2)
            if a.thread_id == b.thread_id
            and a.status == b.status == 200
            and a.started < (b.ended or 0)
            and b.started < (a.ended or 0)
        ]
        if overlapping:
            self.seen["accepted streams on one thread in flight at once (client clocks)"] += 1

    def _deleted_before(self, thread_id: str, moment: float) -> bool:
        """Whether a delete of the thread had started by `moment`."""
        return any(
            s.kind == "threads.delete" and s.thread_id == thread_id and s.started <= moment
            for s in self.simple
        )

    def _read_items(self, thread_id: str) -> tuple[int, list[dict[str, Any]]]:
        items: list[dict[str, Any]] = []
        after = None
        while True:
            params: dict[str, Any] = {"thread_id": thread_id, "limit": 50, "order": "asc"}
            if after:
                params["after"] = after
            response = self._post(0, "items.list", **params)
            if response.status_code != 200:
                return response.status_code, items
            page = response.json()
            items.extend(page["data"])
            if not page.get("has_more"):
                return 200, items
            after = page["after"]

    def _listed(self, host: int) -> set[str]:
        listed: set[str] = set()
        after = None
        while True:
            params: dict[str, Any] = {"limit": 50, "order": "desc"}
            if after:
                params["after"] = after
            response = self._post(host, "threads.list", **params)
            assert response.status_code == 200, response.text
            page = response.json()
            listed.update(t["id"] for t in page["data"])
            if not page.get("has_more"):
                return listed
            after = page["after"]

    def check(self) -> None:
        calls = list(self.calls)
        deleted = {
            s.thread_id for s in self.simple if s.kind == "threads.delete" and s.status == 200
        }

        # Every request got a well-formed answer: never a 5xx, a cut or a hang.
        broken = [str(c) for c in calls if c.failure or c.status is None or c.status >= 500]
        broken += [
            f"{s.kind}@host{s.host} -> {s.status} {s.body}" for s in self.simple if s.status >= 500
        ]
        assert not broken, f"requests failed: {broken}"

        # A delete always succeeds; stop and rename answer 200, or 404 once deleted.
        wrong = []
        for s in self.simple:
            gone = self._deleted_before(s.thread_id, s.started)
            allowed = {200, 404} if gone else {200}
            if s.status not in allowed:
                wrong.append(f"{s.kind}@host{s.host} on {s.thread_id} -> {s.status} {s.body}")
        assert not wrong, f"unexpected answers: {wrong}"

        # A busy thread is refused before any stream, clearly and retryably.
        refused = [c for c in calls if c.status == 409]
        bad_409 = [
            f"{c}: {c.body} {c.headers.get('retry-after')}"
            for c in refused
            if not (
                isinstance(c.body, dict)
                and c.body.get("error", {}).get("code") == "thread_busy"
                and isinstance(c.body["error"].get("message"), str)
                and c.headers.get("retry-after")
            )
        ]
        assert not bad_409, f"409 answers without thread_busy / Retry-After: {bad_409}"

        # Otherwise a streaming request is accepted, or 404 when its thread (or, for a
        # retry or a click, its item) may already be gone.
        retries = [c for c in calls if c.kind == "retry" and c.accepted]
        odd = []
        for c in calls:
            if c.status in (200, 409):
                continue
            item_may_be_gone = c.target is not None and any(
                r is not c and r.started <= (c.ended or 0) for r in retries
            )
            if c.status == 404 and (
                c.thread_id is None
                or self._deleted_before(c.thread_id, c.ended or 0)
                or item_may_be_gone
            ):
                continue
            odd.append(f"{c}: {c.body}")
        assert not odd, f"unexpected answers to streaming requests: {odd}"

        # A deleted thread stays deleted, on both instances, with none of its items.
        resurrected = []
        for thread_id in sorted(deleted):
            for host in (0, 1):
                got = self._post(host, "threads.get_by_id", thread_id=thread_id)
                if got.status_code != 404:
                    resurrected.append(
                        f"{thread_id}: threads.get_by_id@host{host} {got.status_code}"
                    )
            status, items = self._read_items(thread_id)
            if status != 404:
                kinds = Counter(i["type"] for i in items)
                resurrected.append(f"{thread_id}: items.list {status} {dict(kinds)}")
        listed = self._listed(0) | self._listed(1)
        resurrected += [f"{t}: listed by threads.list" for t in sorted(deleted & listed)]
        assert not resurrected, f"deleted threads came back: {resurrected}"

        live = [t for t in self.thread_ids if t not in deleted]
        missing = [t for t in live if t not in listed]
        assert not missing, f"threads missing from threads.list: {missing}"
        for thread_id in live:
            self._check_thread(thread_id, [c for c in calls if c.thread_id == thread_id])

        # A stream ends without an error event unless its thread was deleted meanwhile.
        failed = [
            f"{c}: {c.errors}"
            for c in calls
            if c.errors and not (c.thread_id and self._deleted_before(c.thread_id, c.ended or 0))
        ]
        assert not failed, f"streams ended with an error on a live thread: {failed}"

    def _check_thread(self, thread_id: str, calls: list[Call]) -> None:
        status, items = self._read_items(thread_id)
        assert status == 200, f"{thread_id}: items.list answered {status}"
        ids = Counter(i["id"] for i in items)
        twice = [i for i, n in ids.items() if n > 1]
        assert not twice, f"{thread_id}: item ids stored twice: {twice}"

        users = Counter()
        user_ids: dict[str, list[str]] = {}
        answers: dict[str, list[str]] = {}
        for item in items:
            if item["type"] == "user_message":
                text = " ".join(p.get("text", "") for p in item["content"])
                for marker in _MARKER.findall(text):
                    users[marker] += 1
                    user_ids.setdefault(marker, []).append(item["id"])
            elif item["type"] == "assistant_message":
                text = "".join(p.get("text", "") for p in item["content"])
                found = _ANSWER.match(text)
                answers.setdefault(found.group(1) if found else "?", []).append(text)

        retries = [c for c in calls if c.kind == "retry" and c.accepted]

        def may_be_removed(call: Call) -> bool:
            # A retry of another message deletes what follows that message.
            own = call.target if call.kind == "retry" else call.user_item
            return any(
                r is not call and r.target != own and (r.ended or 0) > call.started for r in retries
            )

        # Every accepted user message is stored exactly once; a refused one not at all.
        stored_wrong = []
        for c in calls:
            if c.kind not in ("create", "add"):
                continue
            n = users.get(c.marker or "", 0)
            if c.accepted:
                expected = {0, 1} if may_be_removed(c) else {1}
                if n not in expected or (n and user_ids[c.marker or ""] != [c.user_item]):
                    stored_wrong.append(f"{c}: stored {n}x as {user_ids.get(c.marker or '')}")
            elif n:
                stored_wrong.append(f"{c}: not accepted, yet stored {n}x")
        assert not stored_wrong, f"{thread_id}: user messages stored wrongly: {stored_wrong}"

        # One answer per user message at most, and none without its message.
        duplicated = {m: texts for m, texts in answers.items() if len(texts) > 1}
        assert not duplicated, f"{thread_id}: a user message answered more than once: {duplicated}"
        orphaned = {m: texts for m, texts in answers.items() if m not in users}
        assert not orphaned, f"{thread_id}: answers whose user message is gone: {orphaned}"

        # The newest accepted answer to a stored message is kept, however it ended (a stop
        # keeps the part that streamed), unless a later retry of another message removed it.
        lost = []
        for marker in users:
            answering = sorted(
                (c for c in calls if c.marker == marker and c.kind != "action" and c.accepted),
                key=lambda c: c.started,
            )
            if not answering:
                continue
            last = answering[-1]
            if last.errors or not last.text or may_be_removed(last):
                continue
            kept = answers.get(marker, [])
            if len(kept) != 1 or not kept[0].startswith(last.text.rstrip()):
                lost.append(f"{last}: streamed {last.text!r}, stored {kept}")
        assert not lost, f"{thread_id}: accepted answers not kept: {lost}"

        # A widget a click streamed is stored, unless a retry removed it.
        widgets = [
            f"{c}: widget {w}"
            for c in calls
            if c.kind == "action" and c.accepted and not may_be_removed(c)
            for w in c.widget_items
            if w not in ids
        ]
        assert not widgets, f"{thread_id}: widgets lost: {widgets}"

        # A title the user set is kept: a generated title never overwrites it.
        renames = [
            s
            for s in self.simple
            if s.kind == "threads.update" and s.thread_id == thread_id and s.status == 200
        ]
        if renames:
            got = self._post(0, "threads.get_by_id", thread_id=thread_id)
            assert got.status_code == 200, got.text
            title = got.json().get("title")
            wanted = max(renames, key=lambda s: s.started).title
            assert title == wanted, f"{thread_id}: title {title!r}, the user set {wanted!r}"


SETTINGS = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


@pytest.fixture(scope="module", params=["sqlite", "cosmos"])
def two_hosts(
    request: pytest.FixtureRequest,
    fake_model_server: FakeModel,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[LocalHost]]:
    """Two instances on one store, started once per store for the whole module."""
    env = {
        **model_env(fake_model_server),
        "AUTH_MODE": "platform",
        "STOP_POLL_SECONDS": "0.1",
        # Runs create threads quickly; the new-thread limit has tests of its own.
        "THREADS_PER_MINUTE": "10000",
    }
    root = tmp_path_factory.mktemp(f"state-machine-{request.param}")
    if request.param == "sqlite":
        dirs = [root, root]  # one database file: the store they share
    else:
        cosmos = request.getfixturevalue("cosmos_server")
        azurite = request.getfixturevalue("azurite_server")
        name = f"t{uuid.uuid4().hex[:16]}"
        env.update(
            cosmos_env(cosmos, name),
            AZURE_STORAGE_CONNECTION_STRING=azurite.connection_string,
            ATTACHMENTS_CONTAINER=name,
        )
        dirs = [root / "a", root / "b"]  # nothing shared on disk: only the store
    hosts: list[LocalHost] = []
    try:
        for data_dir in dirs:
            hosts.append(LocalHost(env, data_dir))
            # One request each, one after the other: the first creates the database.
            warm = hosts[-1].client("todo", **{"x-ms-client-principal": principal("warm-up")})
            assert warm.request("threads.list", limit=1).status_code == 200
        yield hosts
    finally:
        for host in hosts:
            host.stop()


@pytest.fixture
def answering(fake_model_server: FakeModel) -> Iterator[FakeModel]:
    fake_model_server.reset()
    fake_model_server.responder = _answer
    yield fake_model_server
    fake_model_server.reset()


def test_one_turn_per_thread_across_instances(two_hosts, answering):
    seen: Counter[str] = Counter()
    try:
        run_state_machine_as_test(lambda: ThreadMachine(two_hosts, seen), settings=SETTINGS)
    finally:
        print(f"\nstate machine: {dict(sorted(seen.items()))}")


# Races replayed on every run, whatever the search generates. The first four are what it
# found on main (answers duplicated, a rename lost, a deleted thread back); each starts
# while the thread's first answer streams from the other instance ("busy": a later,
# slow one).
PINNED: dict[str, Callable[[ThreadMachine, str], object]] = {
    "retry": lambda m, t: m.retry(thread=t, host=1, pick=0),
    "two retries": lambda m, t: (
        m.retry(thread=t, host=1, pick=0),
        m.retry(thread=t, host=1, pick=0),
    ),
    "rename": lambda m, t: m.rename(thread=t, host=1),
    "delete": lambda m, t: m.delete(thread=t, host=1),
    "message": lambda m, t: m.add_message(thread=t, host=1, slow=False),
    # A message, then another while the first one's slow answer streams: refused, or run
    # after it, never at once.
    "busy": lambda m, t: (
        m.wait_for_in_flight(),
        m.add_message(thread=t, host=0, slow=True),
        m.let_streams_run(seconds=0.3),
        m.add_message(thread=t, host=1, slow=False),
    ),
    "click": lambda m, t: m.custom_action(thread=t, host=1, on_widget=False),
    "stop": lambda m, t: (m.let_streams_run(seconds=0.3), m.stop(thread=t, host=1)),
}


@pytest.mark.parametrize("race", PINNED)
def test_known_race_during_the_first_answer(two_hosts, answering, race):
    machine = ThreadMachine(two_hosts, Counter())
    thread_id = machine.first_thread(host=0)
    PINNED[race](machine, thread_id)
    machine.teardown()
