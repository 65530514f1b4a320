"""The weather use case end to end over HTTP, on both stores: the app in a subprocess,
the fake model scripting tool calls, and the fake Open-Meteo answering the app's
real HTTP client."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.conftest import model_env
from tests.fake_model import FakeModel, Reply
from tests.test_e2e_attachments import PNG, _create, _image_sent_to_model, _send, _upload


@pytest.fixture
def weather_host(start_host, fake_model, store_env, fake_weather):
    return start_host(
        {
            **model_env(fake_model),
            **store_env,
            **fake_weather.env(),
            "WEATHER_TIMEOUT_SECONDS": "1",
        }
    )


@pytest.fixture
def client(weather_host):
    return weather_host.client("weather")


def texts(node: Any) -> list[str]:
    """Every value and label in a widget tree, in reading order."""
    found: list[str] = []
    if isinstance(node, dict):
        for key in ("value", "label"):
            if isinstance(node.get(key), str):
                found.append(node[key])
        for child in node.get("children") or []:
            found.extend(texts(child))
    return found


def button(node: Any, label: str) -> dict[str, Any]:
    if isinstance(node, dict):
        if node.get("type") == "Button" and node.get("label") == label:
            return node
        for child in node.get("children") or []:
            found = button(child, label)
            if found:
                return found
    return {}


def click(client, thread_id: str, item: dict[str, Any], label: str):
    action = button(item["widget"], label)["onClickAction"]
    return client.stream(
        "threads.custom_action", thread_id=thread_id, item_id=item["id"], action=action
    )


def progress(stream) -> list[str]:
    return [e["text"] for e in stream.of_type("progress_update")]


def tool_output_seen_by_model(fake_model: FakeModel) -> str:
    return fake_model.turn_requests[-1].text()


def test_weather_tool_streams_a_widget_with_the_providers_numbers(client, fake_model, fake_weather):
    fake_model.script(
        Reply.call("get_weather", place="Paris", days=4), Reply.say("Take an umbrella on Tuesday.")
    )

    stream = client.create_thread("What's the weather in Paris this week?")

    assert not stream.errors, stream.errors
    assert stream.text == "Take an umbrella on Tuesday."
    assert progress(stream) == [
        "Looking up Paris…",
        "Fetching the weather for Paris, Île-de-France, France…",
    ]
    (item,) = stream.done_items("widget")
    shown = texts(item["widget"])
    for expected in ("Paris, Île-de-France, France", "21°C", "Partly cloudy", "Wind 11 km/h"):
        assert expected in shown
    assert ["24°C / 12°C", "19°C / 11°C", "18°C / 11°C", "25°C / 13°C"] == [
        t for t in shown if " / " in t
    ]
    assert "Thunderstorm" in shown and "Slight rain" in shown
    assert item["copy_text"].startswith("Paris, Île-de-France, France: 21°C, Partly cloudy")
    assert fake_weather.seen("forecast")[0]["forecast_days"] == "4"
    assert "Paris, Île-de-France, France: 21°C" in tool_output_seen_by_model(fake_model)
    stored = client.items(stream.thread_id)
    assert [i["id"] for i in stored if i["type"] == "widget"] == [item["id"]]


def test_city_picker_click_shows_weather_without_asking_the_model(client, fake_model, fake_weather):
    fake_model.script(
        Reply.call("show_city_picker", cities=["Tokyo", "London"], days=3),
        Reply.say("Pick a city."),
    )
    stream = client.create_thread("Let me choose a city.")
    thread_id = stream.thread_id
    (picker,) = stream.done_items("widget")
    assert texts(picker["widget"])[-2:] == ["Tokyo", "London"]
    requests_before = len(fake_model.requests)

    clicked = click(client, thread_id, picker, "Tokyo")

    assert not clicked.errors, clicked.errors
    assert progress(clicked) == ["Fetching the weather for Tokyo…"]
    assert not clicked.of_type("thread.item.replaced")  # the picker stays for another click
    (card,) = clicked.done_items("widget")
    assert {"Tokyo, Japan", "19°C", "Fog", "Wind 6 km/h"} <= set(texts(card["widget"]))
    assert fake_weather.seen("geocoding")[-1]["name"] == "Tokyo"
    assert len(fake_model.requests) == requests_before

    # The card's unit button switches it in place and remembers the choice.
    toggled = click(client, thread_id, card, "Show °F")
    (replaced,) = toggled.of_type("thread.item.replaced")
    assert replaced["item"]["id"] == card["id"]
    assert {"65°F", "Wind 3 mph", "Show °C"} <= set(texts(replaced["item"]["widget"]))
    assert len(fake_model.requests) == requests_before
    stored = {i["id"]: i for i in client.items(thread_id)}
    assert "65°F" in texts(stored[card["id"]]["widget"])
    assert picker["id"] in stored

    fake_model.script(Reply.say("ok"))
    client.add_message(thread_id, "Thanks")
    sent = fake_model.turn_requests[-1].text()
    assert "The user asked for Fahrenheit in this conversation." in sent
    assert "Tokyo, Japan: 65°F" in sent  # the card reaches the model as its copy text


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (("forecast", {"status": 503}), "The weather service is unavailable right now (HTTP 503)"),
        (("geocoding", {"status": 200, "hang": 3.0}), "did not answer within 1 second."),
    ],
    ids=["http-503", "timeout"],
)
def test_provider_failure_is_a_clear_message_and_a_retry_button(
    client, fake_model, fake_weather, failure, message
):
    endpoint, options = failure
    fake_weather.fail(endpoint, **options)
    fake_model.script(
        Reply.call("get_weather", place="London", days=3), Reply.say("The service is down.")
    )

    stream = client.create_thread("Weather in London?")

    assert not stream.errors, stream.errors
    assert stream.text == "The service is down."
    assert message in tool_output_seen_by_model(fake_model)
    (card,) = stream.done_items("widget")
    assert "No weather for London" in texts(card["widget"])
    assert any(message in t for t in texts(card["widget"]))
    requests_before = len(fake_model.requests)

    retried = click(client, stream.thread_id, card, "Try again")

    (replaced,) = retried.of_type("thread.item.replaced")
    assert replaced["item"]["id"] == card["id"]
    assert {"London, England, United Kingdom", "14°C", "Overcast"} <= set(
        texts(replaced["item"]["widget"])
    )
    assert len(fake_model.requests) == requests_before


def test_unknown_place_goes_back_to_the_model_without_a_widget(client, fake_model):
    fake_model.script(
        Reply.call("get_weather", place="Atlantis", days=3), Reply.say("Where is that?")
    )

    stream = client.create_thread("Weather in Atlantis?")

    assert not stream.errors and stream.text == "Where is that?"
    assert stream.done_items("widget") == []
    assert "could not find a place called 'Atlantis'" in tool_output_seen_by_model(fake_model)


def test_fahrenheit_preference_from_the_tool_applies_to_the_next_lookup(client, fake_model):
    fake_model.script(
        Reply.call("set_temperature_units", units="Fahrenheit"),
        Reply.call("get_weather", place="New York", days=3),
        Reply.say("Hot and sunny."),
    )

    stream = client.create_thread("Use Fahrenheit and show me New York.")

    (card,) = stream.done_items("widget")
    assert {"81°F", "Clear sky", "Wind 5 mph", "86°F / 68°F"} <= set(texts(card["widget"]))
    assert "temperatures are shown in Fahrenheit" in fake_model.turn_requests[1].text()


def test_local_time_of_a_place_comes_from_its_geocoded_time_zone(client, fake_model):
    fake_model.script(Reply.call("get_local_time", place="Cairo"), Reply.say("Evening there."))

    stream = client.create_thread("What time is it in Cairo?")

    assert not stream.errors and progress(stream) == ["Looking up Cairo…"]
    assert " in Africa/Cairo (UTC+0" in tool_output_seen_by_model(fake_model)


def test_photo_reaches_the_model_with_instructions_to_look_at_it(client, fake_model, store_env):
    attachment = _create(client, "sky.png", "image/png", len(PNG))
    assert _upload(attachment, PNG, {}, "image/png").status_code in (200, 201)
    fake_model.script(Reply.say("Clear skies, by the look of it."))

    stream = _send(client, "What's the weather like in this picture?", [attachment["id"]])

    assert not stream.errors, stream.events
    assert stream.text == "Clear skies, by the look of it."
    assert base64.b64decode(_image_sent_to_model(fake_model)) == PNG
    sent = fake_model.turn_requests[-1].text()
    assert "You can see images the user attaches" in sent
    assert "What's the weather like in this picture?" in sent


def test_config_lists_the_weather_use_case(weather_host):
    config = httpx.get(weather_host.url + "/api/config", timeout=10).json()
    weather = next(u for u in config["use_cases"] if u["name"] == "weather")
    assert weather["title"] == "Weather"
    assert "Choose a city" in [p["label"] for p in weather["starter_prompts"]]
