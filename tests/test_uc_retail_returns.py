"""Retail returns over HTTP, on both stores: listing and cancelling returns, and another
signed-in user who can neither see nor cancel them."""

from __future__ import annotations

from tests.conftest import model_env
from tests.fake_model import Reply
from tests.test_e2e_bad_input import principal
from tests.test_uc_retail_e2e import actions, click, only, replaced, return_by_clicks


def test_list_and_cancel_returns(host, fake_model):
    client = host.client("retail")
    thread_id, pickup_id, card = return_by_clicks(client, fake_model, (5, 6))
    _, kept_id, kept_card = return_by_clicks(
        client,
        fake_model,
        (8,),
        reason="DAMAGED",
        resolution="KEEP_WITH_DISCOUNT",
        shipping=None,  # keeping the item: nothing is sent back
        thread_id=thread_id,
    )
    assert "Partial refund issued (30%)" in str(kept_card["widget"])
    assert "$38.70 back" in kept_card["copy_text"]  # 30% of $129.00
    assert actions(kept_card["widget"]) == []  # completed: no cancel button

    fake_model.script(Reply.call("list_my_returns"), Reply.say("Here are your returns."))
    listed = only(client.add_message(thread_id, "Show my returns").done_items("widget"))
    assert pickup_id in listed["copy_text"] and kept_id in listed["copy_text"]
    cancel = only(actions(listed["widget"], "retail.cancel_return"))
    assert cancel["payload"] == {"return_id": pickup_id, "view": "list"}

    relisted = replaced(click(client, thread_id, listed, cancel), listed["id"])
    assert actions(relisted["widget"]) == []
    assert f"Return {pickup_id} (CANCELLED" in relisted["copy_text"]
    assert f"Return {kept_id} (COMPLETED" in relisted["copy_text"]

    # The confirmation card's own button is stale now: a clear error, nothing changes.
    stale = client.stream(
        "threads.custom_action",
        thread_id=thread_id,
        item_id=card["id"],
        action=only(actions(card["widget"])),
    )
    assert "already cancelled" in only(stale.errors)["message"]

    fake_model.script(
        Reply.call("cancel_return", return_id=kept_id),
        Reply.say("That one is complete."),
        Reply.call("show_recent_orders"),
        Reply.say("Here."),
    )
    client.add_message(thread_id, f"Cancel {kept_id} too")
    assert "Not done: Return" in fake_model.turn_requests[-1].text()
    assert "partial refund was already issued" in fake_model.turn_requests[-1].text()

    # Cancelling freed the shirt for a new return; the kept headphones stay taken.
    orders = only(client.add_message(thread_id, "Show my orders").done_items("widget"))
    assert "#5 Linen shirt (ORD-3003-1, $49.00): Returnable until" in orders["copy_text"]
    assert (
        f"#8 Wireless headphones (ORD-3005-1, $129.00): Already in return {kept_id}"
        in (orders["copy_text"])
    )


def test_cancel_by_typing_the_return_just_submitted(host, fake_model):
    client = host.client("retail")
    thread_id, return_id, _card = return_by_clicks(client, fake_model, (2,), shipping="DROP_OFF")
    fake_model.script(Reply.call("cancel_return"), Reply.say("Cancelled."))
    client.add_message(thread_id, "Actually, cancel it")
    assert f"Return {return_id} is cancelled" in fake_model.turn_requests[-1].text()


def test_another_user_cannot_see_or_cancel_returns(start_host, fake_model, store_env):
    host = start_host({**model_env(fake_model), **store_env, "AUTH_MODE": "platform"})
    alice = host.client("retail", **{"x-ms-client-principal": principal("alice")})
    bob = host.client("retail", **{"x-ms-client-principal": principal("bob")})
    alice_thread, return_id, card = return_by_clicks(alice, fake_model, (5,))

    fake_model.script(
        Reply.call("list_my_returns"),
        Reply.say("You have none."),
        Reply.call("cancel_return", return_id=return_id),
        Reply.say("Not found."),
    )
    opened = bob.create_thread("Show my returns")
    assert only(opened.done_items("widget"))["copy_text"] == "Returns shown: none."
    bob.add_message(opened.thread_id, f"Cancel {return_id}")
    assert f"Not done: You have no return {return_id}." in fake_model.turn_requests[-1].text()

    # A forged click in Bob's own thread names Alice's return: refused, like a missing one.
    forged = bob.stream(
        "threads.custom_action",
        thread_id=opened.thread_id,
        action={"type": "retail.cancel_return", "payload": {"return_id": return_id}},
    )
    assert f"You have no return {return_id}" in only(forged.errors)["message"]
    # Alice's thread and its widget are not Bob's to click.
    foreign = bob.stream(
        "threads.custom_action",
        thread_id=alice_thread,
        item_id=card["id"],
        action=only(actions(card["widget"])),
    )
    assert foreign.status == 404

    fake_model.script(Reply.call("list_my_returns"), Reply.say("Here."))
    listed = only(alice.add_message(alice_thread, "Show my returns").done_items("widget"))
    assert f"Return {return_id} (REQUESTED" in listed["copy_text"]
    assert "It can be cancelled." in listed["copy_text"]
