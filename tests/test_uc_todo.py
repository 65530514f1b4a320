"""The `todo` use case end to end over HTTP, on both stores: tools add and change tasks,
the list widget streams with the right counts, its buttons and form change the stored
tasks and redraw it in place, tasks persist across threads and stay with their user,
and typing and clicking end in the same stored state."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.conftest import model_env
from tests.fake_model import Reply
from tests.test_e2e_bad_input import principal


def new(title: str, due: str | None = None, priority: str | None = None) -> dict[str, Any]:
    return {"title": title, "due": due, "priority": priority}


def counts(item: dict[str, Any]) -> list[str]:
    """The count badges in the list widget's header."""
    header = item["widget"]["children"][0]["children"]
    return [c["label"] for c in header if c.get("type") == "Badge"]


def rows(item: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """title -> {id, done, action} for each task row of the list widget."""
    found = {}
    for child in item["widget"]["children"]:
        if child.get("type") == "Row" and child.get("key"):
            toggle, body = child["children"][0], child["children"][1]
            text = body["children"][0]
            found[text["value"]] = {
                "id": child["key"],
                "done": toggle["onClickAction"]["type"] == "todo.reopen",
                "line_through": text.get("lineThrough"),
            }
    return found


def notice(item: dict[str, Any]) -> str | None:
    caption = next((c for c in item["widget"]["children"] if c.get("id") == "todo-notice"), None)
    return caption["value"] if caption else None


def click(client, thread_id: str, item_id: str | None, kind: str, **payload: Any):
    params: dict[str, Any] = {
        "thread_id": thread_id,
        "action": {"type": kind, "payload": payload},
    }
    if item_id:
        params["item_id"] = item_id
    stream = client.stream("threads.custom_action", **params)
    assert stream.status == 200 and not stream.errors, stream.events or stream.body
    return stream


def replaced(stream, item_id: str) -> dict[str, Any]:
    events = stream.of_type("thread.item.replaced")
    assert len(events) == 1 and events[0]["item"]["id"] == item_id
    return events[0]["item"]


def stored(client, thread_id: str, item_id: str) -> dict[str, Any]:
    return next(i for i in client.items(thread_id) if i["id"] == item_id)


def listed(client, fake_model) -> str:
    """What `list_tasks` tells the model, in a fresh thread: the stored state."""
    fake_model.script(Reply.call("list_tasks", status="all"), Reply.say("Listed."))
    stream = client.create_thread("What is on my list?")
    assert not stream.errors, stream.errors
    return fake_model.turn_requests[-1].text()


def add_three(client, fake_model):
    fake_model.script(
        Reply.call(
            "add_tasks",
            tasks=[
                new("Buy milk"),
                new("Call mom", due="2030-01-02", priority="high"),
                new("Groceries"),
            ],
        ),
        Reply.say("Added three tasks."),
    )
    stream = client.create_thread("Add buy milk, call mom on Jan 2 2030 (urgent) and groceries")
    assert not stream.errors, stream.errors
    (widget,) = stream.done_items("widget")
    return stream.thread_id, widget


@pytest.fixture
def platform_host(start_host, fake_model, store_env):
    return start_host({**model_env(fake_model), **store_env, "AUTH_MODE": "platform"})


def test_add_click_and_form_update_the_list_in_place_and_persist(host, fake_model):
    client = host.client("todo")
    thread_id, widget = add_three(client, fake_model)

    assert counts(widget) == ["3 open", "0 done"]
    tasks = rows(widget)
    assert set(tasks) == {"Buy milk", "Call mom", "Groceries"}
    assert notice(widget) == "Added 3 tasks."
    # The tool told the model what it did, with ids.
    tool_output = fake_model.turn_requests[-1].text()
    assert f"Added: [{tasks['Call mom']['id']}] Call mom (due 2030-01-02, high priority)" in (
        tool_output
    )

    done = replaced(
        click(client, thread_id, widget["id"], "todo.complete", id=tasks["Buy milk"]["id"]),
        widget["id"],
    )
    assert counts(done) == ["2 open", "1 done"]
    assert rows(done)["Buy milk"]["done"] and rows(done)["Buy milk"]["line_through"]
    assert notice(done) == "Completed 'Buy milk'."
    assert counts(stored(client, thread_id, widget["id"])) == ["2 open", "1 done"]

    deleted = replaced(
        click(client, thread_id, widget["id"], "todo.delete", id=tasks["Call mom"]["id"]),
        widget["id"],
    )
    assert counts(deleted) == ["1 open", "1 done"] and "Call mom" not in rows(deleted)

    added = replaced(
        click(
            client,
            thread_id,
            widget["id"],
            "todo.add",
            title="  Walk the dog ",
            due="2030-01-05T00:00:00.000Z",
            priority="low",
        ),
        widget["id"],
    )
    assert counts(added) == ["2 open", "1 done"] and "Walk the dog" in rows(added)
    assert notice(added) == "Added 'Walk the dog'."
    after = stored(client, thread_id, widget["id"])
    assert rows(after) == rows(added)
    # The redrawn widget reaches the model as text with ids.
    assert "To-do list: 2 open, 1 done." in after["copy_text"]

    # A second thread sees the same stored tasks.
    fake_model.script(Reply.call("show_todo_list"), Reply.say("Here it is."))
    second = client.create_thread("Show my list")
    (shown,) = second.done_items("widget")
    assert second.thread_id != thread_id
    assert counts(shown) == ["2 open", "1 done"]
    assert {t: r["done"] for t, r in rows(shown).items()} == {
        "Walk the dog": False,
        "Groceries": False,
        "Buy milk": True,
    }
    walk = next(
        line for line in fake_model.turn_requests[-1].text().split("\\n") if "Walk the dog" in line
    )
    assert "due 2030-01-05, low priority) - open" in walk


def test_form_and_buttons_report_bad_input_on_the_widget(host, fake_model):
    client = host.client("todo")
    thread_id, widget = add_three(client, fake_model)
    milk = rows(widget)["Buy milk"]["id"]

    for payload, message in [
        ({"title": "   "}, "needs a title"),
        ({"title": "x", "due": "someday"}, "YYYY-MM-DD"),
        ({"title": "x", "priority": "asap"}, "low, normal or high"),
        ({"title": "buy MILK"}, "already on the list"),
    ]:
        item = replaced(click(client, thread_id, widget["id"], "todo.add", **payload), widget["id"])
        assert message in notice(item) and counts(item) == ["3 open", "0 done"]

    click(client, thread_id, widget["id"], "todo.delete", id=milk)
    for kind, payload, message in [
        ("todo.complete", {"id": milk}, "no longer exists"),
        ("todo.delete", {"id": milk}, "no longer exists"),
        ("todo.reopen", {"id": "../../etc"}, "not a task id"),
        ("todo.complete", {}, "did not say which task"),
    ]:
        item = replaced(click(client, thread_id, widget["id"], kind, **payload), widget["id"])
        assert message in notice(item) and counts(item) == ["2 open", "0 done"]

    # An action with no widget item answers with a fresh list widget.
    fresh = click(client, thread_id, None, "todo.add", title="From elsewhere")
    (item,) = fresh.done_items("widget")
    assert counts(item) == ["3 open", "0 done"] and item["id"] != widget["id"]


def test_tool_input_problems_come_back_as_text(host, fake_model):
    client = host.client("todo")
    fake_model.script(
        Reply.call(
            "add_tasks",
            tasks=[new(""), new("Pay rent", due="next week"), new("Pay rent", priority="vital")],
        ),
        Reply.say("Some could not be added."),
        Reply.call("update_task", task="t_01ARZ3NDEKTSV4RRFFQ69G5FAV", title="x"),
        Reply.call("complete_tasks", tasks=["nothing like this"]),
        Reply.call("update_task", task="anything", title=None, due=None, priority=None),
        Reply.say("Nothing matched."),
    )
    first = client.create_thread("Add some things")
    assert not first.errors and first.done_items("widget") == []
    output = fake_model.turn_requests[-1].text()
    assert "Not added '': A task needs a title" in output
    assert "Not added 'Pay rent': 'next week' is not a date I understand; use YYYY-MM-DD." in output
    assert "'vital' is not a priority" in output

    later = client.add_message(first.thread_id, "Rename and finish things")
    assert not later.errors and later.text == "Nothing matched."
    output = fake_model.turn_requests[-1].text()
    assert "There is no task with the id t_01ARZ3NDEKTSV4RRFFQ69G5FAV" in output
    assert "No task matches 'nothing like this'" in output
    assert "Nothing to change was given." in output


def test_typing_and_clicking_converge(host, fake_model):
    client = host.client("todo")
    thread_id, widget = add_three(client, fake_model)
    tasks = rows(widget)
    groceries, milk = tasks["Groceries"]["id"], tasks["Buy milk"]["id"]

    # "I finished the groceries": the model looks the task up, then completes it.
    fake_model.script(
        Reply.call("list_tasks", status="open"),
        Reply.call("complete_tasks", tasks=[groceries]),
        Reply.say("Well done!"),
    )
    typed = client.add_message(thread_id, "I finished the groceries")
    assert not typed.errors and typed.text == "Well done!"
    requests = fake_model.turn_requests
    assert f"[{groceries}] Groceries - open" in requests[-2].text()  # list_tasks output
    assert f"Completed 'Groceries' ({groceries})." in requests[-1].text()
    # The list on screen was redrawn in place by the typed change.
    redrawn = replaced(typed, widget["id"])
    assert counts(redrawn) == ["2 open", "1 done"] and rows(redrawn)["Groceries"]["done"]

    # Clicking does the same to another task.
    clicked = replaced(
        click(client, thread_id, widget["id"], "todo.complete", id=milk), widget["id"]
    )
    assert counts(clicked) == ["1 open", "2 done"]
    state = listed(client, fake_model)
    assert f"[{groceries}] Groceries - done" in state and f"[{milk}] Buy milk - done" in state

    # And back: reopen one by typing (by title) and the other by clicking.
    fake_model.script(Reply.call("reopen_tasks", tasks=["buy milk"]), Reply.say("Reopened."))
    client.add_message(thread_id, "Oops, I did not buy the milk yet")
    click(client, thread_id, widget["id"], "todo.reopen", id=groceries)
    state = listed(client, fake_model)
    assert f"[{groceries}] Groceries - open" in state and f"[{milk}] Buy milk - open" in state
    assert counts(stored(client, thread_id, widget["id"])) == ["3 open", "0 done"]

    # Completing twice, by either path, changes nothing.
    fake_model.script(Reply.call("complete_tasks", tasks=[milk]), Reply.say("ok"))
    client.add_message(thread_id, "done with milk")
    fake_model.script(Reply.call("complete_tasks", tasks=[milk]), Reply.say("ok"))
    client.add_message(thread_id, "done with milk")
    assert f"'Buy milk' ({milk}) is already done." in fake_model.turn_requests[-1].text()
    again = replaced(click(client, thread_id, widget["id"], "todo.complete", id=milk), widget["id"])
    assert counts(again) == ["2 open", "1 done"]


def test_rename_reschedule_and_delete_by_typing(host, fake_model):
    client = host.client("todo")
    thread_id, widget = add_three(client, fake_model)
    mom = rows(widget)["Call mom"]["id"]
    fake_model.script(
        Reply.call("update_task", task=mom, title="Call mom and dad", due="none", priority="low"),
        Reply.call("delete_tasks", tasks=["groceries"]),
        Reply.say("Done."),
    )
    stream = client.add_message(thread_id, "Make it call mom and dad, no date, low; drop groceries")
    assert not stream.errors
    outputs = fake_model.turn_requests[-1].text()
    assert f"Updated 'Call mom and dad' ({mom})." in outputs and "Deleted 'Groceries'" in outputs
    # Two typed changes, each redrawing the list in place.
    events = stream.of_type("thread.item.replaced")
    assert [e["item"]["id"] for e in events] == [widget["id"]] * 2
    final = events[-1]["item"]
    assert counts(final) == ["2 open", "0 done"]
    assert set(rows(final)) == {"Buy milk", "Call mom and dad"}
    state = listed(client, fake_model)
    assert f"[{mom}] Call mom and dad (low priority) - open" in state and "Groceries" not in state


def test_concurrent_clicks_lose_nothing(host, fake_model):
    client = host.client("todo")
    thread_id, widget = add_three(client, fake_model)
    tasks = rows(widget)
    actions = [
        ("todo.complete", {"id": tasks["Buy milk"]["id"]}),
        ("todo.delete", {"id": tasks["Call mom"]["id"]}),
        ("todo.complete", {"id": tasks["Groceries"]["id"]}),
        ("todo.add", {"title": "One"}),
        ("todo.add", {"title": "Two"}),
    ]
    with ThreadPoolExecutor(len(actions)) as pool:
        list(pool.map(lambda a: click(client, thread_id, widget["id"], a[0], **a[1]), actions))
    fake_model.script(Reply.call("show_todo_list"), Reply.say("Here."))
    (shown,) = client.create_thread("show it").done_items("widget")
    assert counts(shown) == ["2 open", "2 done"]
    assert {t: r["done"] for t, r in rows(shown).items()} == {
        "One": False,
        "Two": False,
        "Buy milk": True,
        "Groceries": True,
    }


def test_tasks_belong_to_their_user(platform_host, fake_model):
    alice = platform_host.client("todo", **{"x-ms-client-principal": principal("alice")})
    bob = platform_host.client("todo", **{"x-ms-client-principal": principal("bob")})
    alice_thread, alice_widget = add_three(alice, fake_model)
    milk = rows(alice_widget)["Buy milk"]["id"]

    fake_model.script(Reply.call("show_todo_list"), Reply.say("Your list is empty."))
    bob_stream = bob.create_thread("Show my list")
    (bob_widget,) = bob_stream.done_items("widget")
    assert counts(bob_widget) == ["0 open", "0 done"] and rows(bob_widget) == {}
    assert "There are no tasks" in listed(bob, fake_model)

    # Bob cannot act on Alice's widget, nor on her task from his own widget.
    refused = bob.stream(
        "threads.custom_action",
        thread_id=alice_thread,
        item_id=alice_widget["id"],
        action={"type": "todo.complete", "payload": {"id": milk}},
    )
    assert refused.status == 404
    item = replaced(
        click(bob, bob_stream.thread_id, bob_widget["id"], "todo.delete", id=milk),
        bob_widget["id"],
    )
    assert "no longer exists" in notice(item)
    fake_model.script(Reply.call("complete_tasks", tasks=[milk]), Reply.say("Hmm."))
    bob.add_message(bob_stream.thread_id, f"complete {milk}")
    assert f"There is no task with the id {milk}" in fake_model.turn_requests[-1].text()

    state = listed(alice, fake_model)
    assert f"[{milk}] Buy milk - open" in state and "3 open, 0 done" in state


def test_typed_changes_on_the_responses_api_path(start_host, fake_model):
    client = start_host(model_env(fake_model, api="responses")).client("todo")
    thread_id, widget = add_three(client, fake_model)
    assert fake_model.turn_requests[-1].api == "responses"
    fake_model.script(Reply.call("complete_tasks", tasks=["milk"]), Reply.say("Done."))
    stream = client.add_message(thread_id, "bought the milk")
    assert not stream.errors and stream.text == "Done."
    assert counts(replaced(stream, widget["id"])) == ["2 open", "1 done"]


def test_listed_with_greeting_and_starter_prompts(start_host, fake_model):
    host = start_host(model_env(fake_model))
    config = httpx.get(f"{host.url}/api/config", timeout=10).json()
    todo = next(u for u in config["use_cases"] if u["name"] == "todo")
    assert todo["title"] == "To-do list" and todo["greeting"]
    assert len(todo["starter_prompts"]) >= 3
    fake_model.script(Reply.say("ok"))
    host.client("todo").create_thread("hi")
    instructions = fake_model.turn_requests[-1].text()
    assert "to-do list" in instructions and "add_tasks" in instructions
