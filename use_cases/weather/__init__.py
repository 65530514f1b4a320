"""Weather: current conditions and a short forecast from Open-Meteo as a widget, a
one-click city picker, local times, and questions about attached photos."""

from __future__ import annotations

from shared.use_case import StarterPrompt, UseCase

USE_CASE = UseCase(
    name="weather",
    title="Weather",
    description="Current weather and forecasts anywhere, and what the sky says in your photos.",
    greeting="Hi! Ask me about the weather anywhere, pick a city, or attach a photo of the sky.",
    starter_prompts=(
        StarterPrompt(
            label="Weather in Paris",
            prompt="What's the weather in Paris today and for the next 3 days?",
            icon="globe",
        ),
        StarterPrompt(label="Choose a city", prompt="Let me choose a city.", icon="map-pin"),
        StarterPrompt(
            label="Use Fahrenheit",
            prompt="Use Fahrenheit from now on and show me the weather in New York.",
            icon="settings-slider",
        ),
        StarterPrompt(
            label="Weather in a photo",
            prompt="What's the weather like in this picture? (attach a photo first)",
            icon="images",
        ),
    ),
)
