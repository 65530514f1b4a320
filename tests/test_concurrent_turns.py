"""Two requests on one thread at the same moment, each changing the thread's session
state, on both stores: optimistic concurrency re-applies the loser's change, so neither
update is lost."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.conftest import model_env
from tests.fake_model import Reply
from tests.test_uc_retail_e2e import actions, click, line_id, only, replaced


def test_concurrent_widget_actions_keep_both_changes(start_host, fake_model, store_env):
    client = start_host({**model_env(fake_model), **store_env}).client("retail")
    fake_model.script(Reply.call("show_recent_orders"), Reply.say("Here are your orders."))
    first = client.create_thread("I want to return something")
    thread_id = first.thread_id
    orders = only(first.done_items("widget"))
    wanted = {line_id(orders, n) for n in (5, 6, 8)}
    toggles = [a for a in actions(orders["widget"], "retail.toggle_item")]
    chosen = [a for a in toggles if a["payload"]["line_id"] in wanted]
    assert len(chosen) == 3

    with ThreadPoolExecutor(max_workers=3) as pool:
        streams = list(pool.map(lambda a: click(client, thread_id, orders, a), chosen))
    assert all(s.errors == [] for s in streams)

    # Whatever order they landed in, the selection holds all three items.
    latest = client.items(thread_id, order="desc", limit=5)
    current = next(i for i in latest if i["id"] == orders["id"])
    select = only(actions(current["widget"], "retail.select_items"))
    locked = replaced(click(client, thread_id, current, select), orders["id"])
    text = locked["copy_text"]
    assert "#5 Linen shirt" in text and "#6 Chino trousers" in text
    assert "#8 Wireless headphones" in text, text
