"""Attachments in the browser: pick, upload with the descriptor the server returned,
thumbnail, remove before sending, refuse what the server would refuse."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.fake_model import Reply
from tests.test_e2e_attachments import PNG


def wait_loaded(page, image) -> None:
    """The image's bytes arrived and decoded (a broken image has naturalWidth 0)."""
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )


def test_image_upload_thumbnail_remove_and_send(chat, fake_model):
    page = chat.page
    chat.sign_in()
    file_input = page.locator("[data-testid=file-input]")
    file_input.set_input_files(
        [
            {"name": "red.png", "mimeType": "image/png", "buffer": PNG},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"remove me"},
        ]
    )
    chips = page.locator(".tray .chip")
    expect(chips).to_have_count(2)
    expect(page.locator(".tray .chip[data-uploaded=true]")).to_have_count(2)
    wait_loaded(page, chips.first.locator("img.thumb"))
    chat.shot("tray")

    page.get_by_role("button", name="Remove notes.txt").click()
    expect(chips).to_have_count(1)

    fake_model.script(Reply.say("A red square."))
    chat.send("What is in this picture?")
    chat.wait_idle()
    expect(page.locator(".tray .chip")).to_have_count(0)
    sent = page.locator(".message.user").last
    thumb = sent.locator("img.thumb")
    expect(thumb).to_have_attribute("alt", "red.png")
    wait_loaded(page, thumb)
    seen = fake_model.turn_requests[-1].text()
    assert "data:image/png;base64," in seen and "remove me" not in seen
    chat.shot("sent-with-image")

    page.reload()
    page.wait_for_selector(".app.ready")
    thumb = page.locator(".message.user img.thumb")
    expect(thumb).to_have_count(1)
    wait_loaded(page, thumb)


def test_files_the_server_would_refuse_are_refused_up_front(chat):
    page = chat.page
    chat.sign_in()
    page.locator("[data-testid=file-input]").set_input_files(
        [{"name": "tool.exe", "mimeType": "application/x-msdownload", "buffer": b"MZ"}]
    )
    hint = page.locator(".composer-hint")
    expect(hint).to_contain_text("tool.exe: this file type is not accepted")
    expect(page.locator(".tray .chip")).to_have_count(0)


def test_a_file_whose_bytes_lie_about_its_type_shows_the_servers_reason(chat):
    page = chat.page
    chat.sign_in()
    page.locator("[data-testid=file-input]").set_input_files(
        [{"name": "fake.png", "mimeType": "image/png", "buffer": b"this is not a png"}]
    )
    chip = page.locator(".tray .chip.failed")
    expect(chip).to_be_visible()
    assert chip.locator(".error-text").inner_text().strip()
    chat.shot("upload-refused")
    page.get_by_role("textbox", name="Message").fill("hello")
    page.get_by_role("textbox", name="Message").press("Enter")
    expect(page.locator(".composer-hint")).to_contain_text("Remove the attachments that failed")
    expect(page.locator(".message.user")).to_have_count(0)
