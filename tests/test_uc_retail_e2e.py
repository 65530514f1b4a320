"""Retail returns end to end over HTTP, on both stores: the whole flow by clicking only,
by typing only, mixed, "return both items" resolved from session state, and a flow that
a fresh process finishes."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import model_env
from tests.fake_model import Reply

RETURN_ID = re.compile(r"RET-[0-9A-Z]{8}")


# Helpers shared with test_uc_retail_returns.py


def actions(node: Any, kind: str | None = None) -> list[dict[str, Any]]:
    """Every onClickAction in a widget tree (of one type, if given), in reading order."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        action = node.get("onClickAction")
        if action and (kind is None or action["type"] == kind):
            found.append(action)
        for value in node.values():
            found.extend(actions(value, kind))
    elif isinstance(node, list):
        for value in node:
            found.extend(actions(value, kind))
    return found


def only(items: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(items) == 1, items
    return items[0]


def line_id(orders_item: dict[str, Any], n: int) -> str:
    """The line id of item #n, as the orders widget's text shows it."""
    match = re.search(rf"#{n} .*?\((ORD-\d+-\d+),", orders_item["copy_text"])
    assert match, orders_item["copy_text"]
    return match.group(1)


def click(client: Any, thread_id: str, item: dict[str, Any], action: dict[str, Any]) -> Any:
    stream = client.stream(
        "threads.custom_action", thread_id=thread_id, item_id=item["id"], action=action
    )
    assert stream.status == 200 and not stream.errors, (stream.status, stream.errors)
    return stream


def replaced(stream: Any, item_id: str) -> dict[str, Any]:
    item = only(stream.of_type("thread.item.replaced"))["item"]
    assert item["id"] == item_id
    return item


def choose(client: Any, thread_id: str, step: dict[str, Any], value: str) -> Any:
    """Click the option `value` in a reason / resolution / shipping widget."""
    action = only([a for a in actions(step["widget"]) if a["payload"].get("choice") == value])
    stream = click(client, thread_id, step, action)
    locked = replaced(stream, step["id"])
    assert actions(locked["widget"]) == [] and "Chosen:" in locked["copy_text"]
    return stream


def toggle(client: Any, thread_id: str, orders: dict[str, Any], n: int) -> dict[str, Any]:
    wanted = line_id(orders, n)
    action = only(
        [
            a
            for a in actions(orders["widget"], "retail.toggle_item")
            if a["payload"]["line_id"] == wanted
        ]
    )
    return replaced(click(client, thread_id, orders, action), orders["id"])


def return_by_clicks(
    client: Any,
    fake_model: Any,
    numbers: tuple[int, ...] = (5, 6),
    reason: str = "DAMAGED",
    resolution: str = "FULL_REFUND",
    shipping: str | None = "SCHEDULE_PICKUP",
    thread_id: str | None = None,
) -> tuple[str, str, dict[str, Any]]:
    """One model turn shows the orders; clicks do the rest. Returns (thread, return id, card)."""
    fake_model.script(Reply.call("show_recent_orders"), Reply.say("Here are your orders."))
    if thread_id is None:
        first = client.create_thread("I want to return something")
        thread_id = first.thread_id
    else:
        first = client.add_message(thread_id, "Show my orders again")
    orders = only(first.done_items("widget"))
    for n in numbers:
        orders = toggle(client, thread_id, orders, n)
    stream = click(
        client, thread_id, orders, only(actions(orders["widget"], "retail.select_items"))
    )
    locked = replaced(stream, orders["id"])
    assert actions(locked["widget"]) == []
    step = only(stream.done_items("widget"))
    for value in (reason, resolution, shipping):
        if value is None:
            continue
        stream = choose(client, thread_id, step, value)
        step = only(stream.done_items("widget"))
    return_id = RETURN_ID.search(step["copy_text"]).group(0)
    return thread_id, return_id, step


# Tests


def test_full_return_by_clicking_only(host, fake_model):
    client = host.client("retail")
    fake_model.script(Reply.call("show_recent_orders"), Reply.say("Here are your orders."))
    first = client.create_thread("I want to return something")
    thread_id = first.thread_id
    orders = only(first.done_items("widget"))
    assert orders["widget"]["type"] == "Card"
    assert "#9 Swim shorts" in orders["copy_text"] and "swimwear" in orders["copy_text"]
    model_calls = len(fake_model.requests)

    orders = toggle(client, thread_id, orders, 5)
    orders = toggle(client, thread_id, orders, 6)
    assert "Selected: #5 Linen shirt, #6 Chino trousers" in orders["copy_text"]
    select = only(actions(orders["widget"], "retail.select_items"))
    stream = click(client, thread_id, orders, select)
    locked = replaced(stream, orders["id"])
    assert "Returning: #5 Linen shirt, #6 Chino trousers" in locked["copy_text"]
    reason = only(stream.done_items("widget"))
    assert "Why are you returning #5 Linen shirt, #6 Chino trousers?" in reason["copy_text"]

    resolution = only(choose(client, thread_id, reason, "CHANGED_MIND").done_items("widget"))
    # Gold: the 15% change-of-mind fee is waived; keep-with-discount is not offered.
    assert "Refund of $108.00, no restocking fee" in resolution["copy_text"]
    keep = [
        a for a in actions(resolution["widget"]) if a["payload"]["choice"] == "KEEP_WITH_DISCOUNT"
    ]
    assert keep == []
    shipping = only(choose(client, thread_id, resolution, "FULL_REFUND").done_items("widget"))
    card = only(choose(client, thread_id, shipping, "SCHEDULE_PICKUP").done_items("widget"))
    return_id = RETURN_ID.search(card["copy_text"]).group(0)
    assert "Return requested" in str(card["widget"]) and "courier picks" in card["copy_text"]
    assert only(actions(card["widget"]))["payload"] == {"return_id": return_id, "view": "card"}
    assert len(fake_model.requests) == model_calls  # clicks never call the model

    stored = {i["id"]: i for i in client.items(thread_id)}
    assert "Returning:" in stored[orders["id"]]["copy_text"]
    assert stored[card["id"]]["copy_text"] == card["copy_text"]

    # The next typed turn sees what the clicks did, as text.
    fake_model.script(Reply.say("It is on its way."))
    client.add_message(thread_id, "Is my return registered?")
    seen = fake_model.turn_requests[-1].text()
    assert f"Last submitted return: {return_id}." in seen
    assert f"Return {return_id} (REQUESTED" in seen and "No return is in progress." in seen


def test_full_return_by_typing_only(host, fake_model):
    client = host.client("retail")
    fake_model.script(
        Reply.call("show_recent_orders"),
        Reply.say("Which items?"),
        Reply.call("select_return_items", items=["#9"]),
        Reply.say("Swim shorts cannot be returned."),
        Reply.call("select_return_items", items=["5", "linen shirt", "ORD-3003-2"]),
        Reply.say("Why are you returning them?"),
        Reply.call("set_return_reason", reason="too small"),
        Reply.say("What would you like instead?"),
        Reply.call("set_return_resolution", resolution="STORE_CREDIT"),
        Reply.say("How will you send them?"),
        Reply.call("set_return_shipping", method="DROP_OFF"),
        Reply.say("Done."),
    )
    first = client.create_thread("I want to return something")
    thread_id = first.thread_id
    assert only(first.done_items("widget"))["widget"]["type"] == "Card"

    refused = client.add_message(thread_id, "The swim shorts please")
    assert refused.done_items("widget") == []
    assert re.search(
        r"Not done: Some items cannot be returned\. Swim shorts: Not returnable: swimwear "
        r"cannot be returned for hygiene reasons \(ordered \d+ \w+ \d{4}\)",
        fake_model.turn_requests[-1].text(),
    )

    # Each typed answer shows only the next step's widget, never the one just answered.
    expected = [
        ("The linen shirt and the chinos", "Why are you returning"),
        ("They are too small", "What would you like instead?"),
        ("Store credit", "How will you send the items back?"),
        ("I'll drop it off", "Return "),
    ]
    for text, title in expected:
        stream = client.add_message(thread_id, text)
        assert not stream.errors, stream.errors
        assert only(stream.done_items("widget"))["copy_text"].split("] ")[-1].startswith(title)
    card = only(stream.done_items("widget"))
    return_id = RETURN_ID.search(card["copy_text"]).group(0)
    assert "$108.00 store credit" in card["copy_text"] and "WRONG_SIZE" in card["copy_text"]
    assert "Return submitted" in fake_model.turn_requests[-1].text()
    assert f"Return in progress: {return_id}" in fake_model.turn_requests[-2].text()


def test_return_both_items_resolves_from_what_was_shown(host, fake_model):
    client = host.client("retail")
    fake_model.script(
        Reply.call("show_recent_orders", order_id="ORD-3003"),
        Reply.say("This order has two items."),
        Reply.call("select_return_items"),
        Reply.say("Why?"),
    )
    first = client.create_thread("Show my most recent delivered order")
    shown = only(first.done_items("widget"))
    assert "#1 Linen shirt" in shown["copy_text"] and "#2 Chino trousers" in shown["copy_text"]
    assert "#3" not in shown["copy_text"]

    stream = client.add_message(first.thread_id, "Return both items")

    # The model was told what is on screen, from session state...
    instructions = fake_model.turn_requests[-2].text()
    assert "#1 Linen shirt [ORD-3003-1] returnable; #2 Chino trousers [ORD-3003-2]" in instructions
    # ...and the tool, called with no items, took both items of the order shown.
    assert "started for #1 Linen shirt, #2 Chino trousers (worth $108.00)" in (
        fake_model.turn_requests[-1].text()
    )
    reason = only(stream.done_items("widget"))
    assert "Why are you returning #1 Linen shirt, #2 Chino trousers?" in reason["copy_text"]


def test_mixed_flow_finished_by_a_fresh_process(start_host, fake_model, tmp_path, store_env):
    data_dir = tmp_path / "shared-data"
    env = {**model_env(fake_model), **store_env}
    first = start_host(env, data_dir=data_dir)
    client = first.client("retail")
    fake_model.script(
        Reply.call("show_recent_orders"),
        Reply.say("Here are your orders."),
        Reply.call("select_return_items", items=["5", "8"]),
        Reply.say("Why are you returning them?"),
    )
    opened = client.create_thread("Show my orders")
    thread_id = opened.thread_id
    orders = toggle(client, thread_id, only(opened.done_items("widget")), 5)  # a click...
    typed = client.add_message(thread_id, "The shirt and the headphones")  # ...then typing
    reason = only(typed.done_items("widget"))
    assert "#5 Linen shirt, #8 Wireless headphones" in reason["copy_text"]
    assert "Selected: #5 Linen shirt" in orders["copy_text"]
    first.stop()

    second = start_host(env, data_dir=data_dir)
    client = second.client("retail")
    resolution = only(choose(client, thread_id, reason, "DEFECTIVE").done_items("widget"))
    assert "Refund of $178.00, no restocking fee" in resolution["copy_text"]
    fake_model.script(
        Reply.call("set_return_resolution", resolution="refund"), Reply.say("How to send?")
    )
    shipping = only(client.add_message(thread_id, "A refund please").done_items("widget"))
    state = fake_model.turn_requests[-2].text()
    assert "reason: DEFECTIVE; resolution: not chosen" in state
    assert "Resolution FULL_REFUND recorded" in fake_model.turn_requests[-1].text()

    card = only(choose(client, thread_id, shipping, "PREPAID_LABEL").done_items("widget"))
    assert "Linen shirt (ORD-3003-1), Wireless headphones (ORD-3005-1)" in card["copy_text"]
    assert "prepaid label" in card["copy_text"]
