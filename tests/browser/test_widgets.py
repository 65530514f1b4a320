"""Widgets in the browser: every use case's widget renders, and clicks and forms run
their actions, with the answer replacing the widget in place (no model call)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.fake_model import Reply


def widget_rows(chat, text: str):
    """The innermost widget row containing `text` (where its buttons are)."""
    return chat.page.locator(".message.widget .ck-row", has_text=text).last


def test_todo_form_and_buttons_update_the_widget_in_place(chat, fake_model):
    page = chat.page
    chat.sign_in(path="/?use_case=todo")
    fake_model.script(Reply.call("show_todo_list"), Reply.say("Here it is."))
    chat.send("Show my list")
    chat.wait_idle()
    widget = page.locator(".message.widget")
    expect(widget).to_have_count(1)
    item_id = widget.get_attribute("data-item-id")
    expect(widget).to_contain_text("Nothing to do yet")
    model_calls = len(fake_model.requests)

    page.get_by_placeholder("Add a task").fill("Buy <b>milk</b>")
    page.locator(".message.widget select[name=priority]").select_option("high")
    page.locator(".message.widget").get_by_role("button", name="Add").click()
    expect(widget).to_contain_text("Buy <b>milk</b>")
    expect(widget).to_contain_text("1 open")
    expect(widget.locator("b")).to_have_count(0)
    chat.shot("todo-added")

    widget_rows(chat, "Buy <b>milk</b>").get_by_role("button").first.click()
    expect(widget).to_contain_text("1 done")
    expect(page.locator(".message.widget")).to_have_count(1)
    assert page.locator(".message.widget").get_attribute("data-item-id") == item_id
    assert len(fake_model.requests) == model_calls  # clicks never call the model

    page.reload()
    page.wait_for_selector(".app.ready")
    expect(page.locator(".message.widget")).to_contain_text("1 done")


def test_a_full_retail_return_by_clicks_only(chat, fake_model):
    page = chat.page
    chat.sign_in(path="/?use_case=retail")
    fake_model.script(Reply.call("show_recent_orders"), Reply.say("Here are your orders."))
    chat.send("I want to return something")
    chat.wait_idle()
    orders = page.locator(".message.widget").first
    expect(orders).to_contain_text("Your recent orders")
    model_calls = len(fake_model.requests)

    for item in ("#5 Linen shirt", "#6 Chino trousers"):
        widget_rows(chat, item).get_by_role("button", name="Select").click()
        chat.wait_idle()
    expect(orders).to_contain_text("Selected: #5 Linen shirt, #6 Chino trousers")
    orders.get_by_role("button", name="Return selected items").click()
    expect(orders).to_contain_text("Returning: #5 Linen shirt, #6 Chino trousers")
    expect(orders.get_by_role("button")).to_have_count(0)  # locked once answered

    for choice in ("Arrived damaged", "Full refund", "Schedule a courier pickup"):
        step_id = page.locator(".message.widget").last.get_attribute("data-item-id")
        step = page.locator(f".message.widget[data-item-id='{step_id}']")
        expect(step).to_contain_text(choice)
        widget_rows(chat, choice).get_by_role("button", name="Choose").click()
        chat.wait_idle()
        # Answered steps are locked in place: no buttons left, the next step below.
        expect(step.get_by_role("button")).to_have_count(0)
        expect(page.locator(".message.widget").last).not_to_have_attribute("data-item-id", step_id)

    confirmation = page.locator(".message.widget").last
    expect(confirmation).to_contain_text("Return requested")
    expect(confirmation).to_contain_text(re.compile(r"RET-[0-9A-Z]{8}"))
    expect(confirmation.get_by_role("button", name="Cancel return")).to_be_visible()
    assert len(fake_model.requests) == model_calls
    chat.shot("retail-confirmation")


USE_CASE_WIDGETS = {
    "assistant": (Reply.call("get_current_time", timezone="Europe/Paris"), "Europe/Paris"),
    "weather": (Reply.call("get_weather", place="Paris", days=3), "°C"),
    "clinic": (Reply.call("show_open_slots", clinician="Dr Patel", days=3), "Dr Anita Patel"),
    "todo": (Reply.call("show_todo_list"), "To-do list"),
    "retail": (Reply.call("show_recent_orders"), "Your recent orders"),
}


@pytest.mark.parametrize("use_case", sorted(USE_CASE_WIDGETS))
def test_every_use_case_is_usable_from_its_start_screen(chat, fake_model, use_case):
    page = chat.page
    chat.sign_in()
    chat.open_use_case(use_case)
    starters = page.locator(".starter")
    expect(starters.first).to_be_visible()
    call, expected = USE_CASE_WIDGETS[use_case]
    fake_model.script(call, Reply.say("Done."))
    starters.first.click()
    chat.wait_idle()
    expect(page.locator(".message.user")).to_have_count(1)
    widget = page.locator(".message.widget")
    expect(widget).to_contain_text(expected)
    assert widget.locator(".ck-widget-unknown").count() == 0
    expect(chat.assistant()).to_have_text("Done.")
    chat.shot(use_case)
    assert chat.console_errors == []


def test_clock_and_clinic_buttons_act_in_place(chat, fake_model):
    page = chat.page
    chat.sign_in()
    fake_model.script(Reply.call("get_current_time", timezone="Europe/Paris"), Reply.say("Ok."))
    chat.send("What time is it?")
    chat.wait_idle()
    clock = page.locator(".message.widget")
    clock.get_by_role("button", name="Tokyo").click()
    expect(clock).to_contain_text("Asia/Tokyo")

    chat.open_use_case("clinic")
    fake_model.script(
        Reply.call("show_open_slots", clinician="Dr Patel", days=3), Reply.say("Pick a time.")
    )
    chat.send("When can I see Dr Patel?")
    chat.wait_idle()
    picker = page.locator(".message.widget")
    times = picker.get_by_role("button", name=re.compile(r"^\d\d:\d\d$"))
    times.last.click()
    expect(picker).to_contain_text(re.compile(r"Booked.*Dr Anita Patel.*Reference apt_"))
    chat.shot("clinic-booked")
