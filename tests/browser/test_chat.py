"""The self-hosted client in a real browser: sign-in, streaming, history, threads,
stop/retry, errors, and that model text never becomes HTML."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.fake_model import Reply


def test_signed_out_visitors_see_sign_in_then_a_streamed_answer(chat, fake_model):
    page = chat.page
    page.goto(chat.site.url)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    chat.shot("signed-out")

    chat.sign_in("alice@example.com")
    expect(page.locator(".account")).to_contain_text("alice@example.com")
    expect(page.locator(".start h2")).to_be_visible()
    fake_model.script(Reply.say("First part. ", "Second part. ", "Third **part**.", delay=0.7))
    chat.send("Tell me three things")

    expect(page.locator(".message.user").last).to_have_text("Tell me three things")
    streaming = page.locator(".message.assistant[aria-busy='true']")
    expect(streaming).to_contain_text("First part.")
    # Seen while the stream is still open: nothing buffers between model and page.
    assert "Third" not in streaming.inner_text()
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    chat.shot("streaming")

    chat.wait_idle()
    answer = chat.assistant()
    expect(answer).to_have_text(re.compile(r"First part\. Second part\. Third part\."))
    expect(answer.locator("strong")).to_have_text("part")
    expect(page.locator("[data-testid=announcer]")).to_contain_text("Third **part**.")
    expect(page.locator(".thread-list li")).to_have_count(1)
    expect(page.locator(".thread-title")).to_have_text("Fake title")
    chat.shot("answered")
    assert chat.console_errors == []


def test_history_survives_a_reload_and_threads_switch_rename_delete(chat, fake_model):
    page = chat.page
    chat.sign_in()
    fake_model.title = "Packing list"
    fake_model.script(Reply.say("Bring a coat."))
    chat.send("What should I pack?")
    chat.wait_idle()
    expect(page.locator(".thread-list li")).to_have_count(1)

    page.get_by_role("button", name="+ New chat").click()
    expect(page.locator(".start")).to_be_visible()
    fake_model.title = "Dinner ideas"
    fake_model.script(Reply.say("Try risotto."))
    chat.send("What's for dinner?")
    chat.wait_idle()
    expect(page.locator(".thread-list .thread-open")).to_have_text(["Dinner ideas", "Packing list"])

    page.reload()
    page.wait_for_selector(".app.ready")
    expect(page.locator(".message.user")).to_have_text(["What's for dinner?"])
    expect(chat.assistant()).to_have_text("Try risotto.")

    page.get_by_role("button", name="Packing list", exact=True).click()
    expect(page.locator(".message.assistant")).to_have_text(["Bring a coat."])
    expect(page.locator(".thread-title")).to_have_text("Packing list")

    page.get_by_role("button", name="Rename Packing list").click()
    page.get_by_role("textbox", name="New title").fill("Trip to Oslo")
    page.get_by_role("textbox", name="New title").press("Enter")
    expect(page.locator(".thread-list .thread-open")).to_have_text(["Dinner ideas", "Trip to Oslo"])
    expect(page.locator(".thread-title")).to_have_text("Trip to Oslo")

    page.get_by_role("button", name="Delete Dinner ideas").click()
    chat.shot("confirm-delete")
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(page.locator(".thread-list .thread-open")).to_have_text(["Trip to Oslo"])

    page.reload()
    page.wait_for_selector(".app.ready")
    expect(page.locator(".thread-list .thread-open")).to_have_text(["Trip to Oslo"])
    expect(page.locator(".message.assistant")).to_have_text(["Bring a coat."])


def test_stop_keeps_the_partial_answer_and_retry_recovers_from_an_error(chat, fake_model):
    page = chat.page
    chat.sign_in()
    fake_model.script(Reply.say(*[f"word{i} " for i in range(60)], delay=0.15))
    chat.send("Talk for a while")
    expect(chat.assistant()).to_contain_text("word2")
    page.get_by_role("button", name="Stop").click()
    chat.wait_idle()
    partial = chat.assistant().inner_text()
    assert "word2" in partial and "word59" not in partial

    # The turn runs on (in this test, behind the emulator's proxy) until it reads the
    # stop from the store, then saves what it had streamed: about a second.
    for _ in range(20):
        page.reload()
        page.wait_for_selector(".app.ready")
        if page.locator(".message.assistant").count():
            break
        page.wait_for_timeout(500)
    saved = chat.assistant().locator(".markdown").inner_text()
    assert saved.startswith("word0 word1 word2") and "word59" not in saved

    fake_model.script(Reply.error(500))
    chat.send("Try again please")
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    message = alert.inner_text()
    assert "The model service had an error (HTTP 500). Please try again." in message
    assert "Traceback" not in message and "openai" not in message.lower()
    chat.shot("error")

    fake_model.script(Reply.say("Recovered."))
    alert.get_by_role("button", name="Retry").click()
    expect(chat.assistant()).to_have_text("Recovered.")
    expect(page.get_by_role("alert")).to_have_count(0)
    chat.wait_idle()
    expect(page.locator(".message.user").last).to_have_text("Try again please")


def test_model_text_is_never_rendered_as_html(chat, fake_model):
    page = chat.page
    chat.sign_in()
    hostile = (
        '<img src=x onerror="window.pwned=1"> <script>window.pwned=2</script> '
        "[x](javascript:alert(1))"
    )
    fake_model.script(Reply.say(hostile))
    chat.send("<b>bold?</b>")
    chat.wait_idle()
    expect(page.locator(".message.user .bubble")).to_have_text("<b>bold?</b>")
    answer = chat.assistant()
    expect(answer).to_contain_text("<img src=x")
    assert answer.locator("img, script").count() == 0
    assert answer.locator("a[href^='javascript']").count() == 0
    assert page.evaluate("window.pwned") is None


def test_each_user_sees_only_their_own_conversations(chat, fake_model):
    page = chat.page
    chat.sign_in("alice@example.com", user_id="alice-" + chat.user_id)
    fake_model.title = "Alice's secret"
    fake_model.script(Reply.say("Noted."))
    chat.send("My secret is 42")
    chat.wait_idle()
    thread_url = page.url

    page.goto(f"{chat.site.url}/.auth/logout")
    chat.sign_in("bob@example.com", user_id="bob-" + chat.user_id)
    expect(page.locator(".account")).to_contain_text("bob@example.com")
    expect(page.locator(".thread-list li")).to_have_count(0)
    # Bob following Alice's link gets "no such conversation", not her messages.
    page.goto(thread_url)
    expect(page.get_by_role("alert")).to_contain_text("no longer exists")
    expect(page.locator(".message")).to_have_count(0)


def test_feedback_and_keyboard_only_use(chat, fake_model):
    page = chat.page
    chat.sign_in()
    fake_model.script(Reply.say("Keyboard works."))
    box = page.get_by_role("textbox", name="Message")
    box.focus()
    page.keyboard.type("Line one")
    page.keyboard.press("Shift+Enter")  # a new line, not a send
    page.keyboard.type("Line two")
    page.keyboard.press("Enter")
    expect(page.locator(".message.user .bubble")).to_have_text("Line one\nLine two")
    expect(chat.assistant()).to_have_text(re.compile("Keyboard works."))
    chat.wait_idle()
    good = chat.assistant().get_by_role("button", name="Good answer")
    good.focus()
    page.keyboard.press("Enter")
    expect(good).to_have_attribute("aria-pressed", "true")
    expect(chat.assistant().get_by_role("button", name="Bad answer")).to_be_disabled()


def test_small_screens_and_dark_mode(chat, fake_model):
    page = chat.page
    page.set_viewport_size({"width": 390, "height": 844})
    page.emulate_media(color_scheme="dark")
    chat.sign_in()
    fake_model.script(Reply.say("A reply that is long enough to wrap on a phone screen. " * 3))
    chat.send("Hello from a phone")
    chat.wait_idle()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(23, 25, 28)"
    expect(page.get_by_role("textbox", name="Message")).to_be_in_viewport()
    chat.shot("phone-dark")


def test_the_model_picker_sends_the_chosen_model(chat, fake_model):
    page = chat.page
    chat.sign_in()
    picker = page.get_by_role("combobox", name="Model")
    expect(picker).to_have_value("fast")
    expect(picker.locator("option[value=cloud]")).to_be_disabled()
    fake_model.script(Reply.say("From the fast one."), Reply.say("From the smart one."))
    chat.send("First")
    chat.wait_idle()
    picker.select_option("smart")
    chat.send("Second")
    chat.wait_idle()
    models = [r.body["model"] for r in fake_model.turn_requests]
    assert models == ["fake-model", "fake-smart"]
