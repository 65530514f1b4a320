"""Where the weather comes from: a small interface and its Open-Meteo implementation.

Tools and widget actions depend only on `WeatherProvider`; `get_provider()` hands out
one `OpenMeteoProvider` per process, whose HTTP client (and its connection pool) is
created on first use and reused by every request.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

import httpx

from use_cases.weather.domain import (
    BadProviderAnswer,
    Forecast,
    Place,
    WeatherUnavailable,
    clamp_days,
    parse_forecast,
    parse_geocoding,
)

logger = logging.getLogger(__name__)

CURRENT_FIELDS = "temperature_2m,weather_code,wind_speed_10m"
DAILY_FIELDS = "weather_code,temperature_2m_max,temperature_2m_min"


class WeatherProvider(Protocol):
    async def find_place(self, name: str, language: str = "en") -> Place:
        """The best match for a place name; PlaceNotFound or WeatherUnavailable."""
        ...

    async def forecast(self, place: Place, days: int) -> Forecast:
        """Current weather and `days` daily forecasts; WeatherUnavailable on failure."""
        ...


class OpenMeteoProvider:
    def __init__(self, api_url: str, geocoding_url: str, timeout_seconds: float):
        self.api_url = api_url.rstrip("/")
        self.geocoding_url = geocoding_url.rstrip("/")
        self.timeout_seconds = timeout_seconds
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        # Pooled connections belong to the event loop that opened them; a host that
        # runs a new loop (tests, a restarted worker) gets a fresh client.
        if self._client is None or self._loop is not loop:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout_seconds),
                headers={"accept": "application/json"},
            )
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _get(self, url: str, params: dict[str, Any]) -> Any:
        try:
            response = await self._http().get(url, params=params)
        except httpx.TimeoutException:
            logger.warning("Weather request timed out: %s", url)
            raise WeatherUnavailable(
                f"The weather service did not answer within {self.timeout_seconds:g} "
                f"second{'' if self.timeout_seconds == 1 else 's'}. "
                "Please try again in a moment."
            ) from None
        except httpx.InvalidURL:
            logger.warning("Weather URL is invalid: check WEATHER_API_URL / WEATHER_GEOCODING_URL")
            raise WeatherUnavailable("The weather service is not configured correctly.") from None
        except httpx.HTTPError as exc:
            logger.warning("Weather request failed: %s (%s)", url, type(exc).__name__)
            raise WeatherUnavailable(
                "The weather service could not be reached. Please try again later."
            ) from None
        if response.status_code == 429:
            raise WeatherUnavailable("The weather service is busy right now. Try again shortly.")
        if response.status_code >= 500:
            logger.warning("Weather service answered HTTP %s: %s", response.status_code, url)
            raise WeatherUnavailable(
                f"The weather service is unavailable right now (HTTP {response.status_code}). "
                "Please try again later."
            )
        if response.status_code != 200:
            raise WeatherUnavailable(
                f"The weather service refused the request (HTTP {response.status_code}"
                f"{_reason(response)})."
            )
        try:
            return response.json()
        except (ValueError, RecursionError):  # the stdlib parser recurses per nesting level
            raise BadProviderAnswer("not JSON") from None

    async def find_place(self, name: str, language: str = "en") -> Place:
        payload = await self._get(
            f"{self.geocoding_url}/search",
            {"name": name, "count": 1, "language": language, "format": "json"},
        )
        return parse_geocoding(payload, name)

    async def forecast(self, place: Place, days: int) -> Forecast:
        payload = await self._get(
            f"{self.api_url}/forecast",
            {
                "latitude": place.latitude,
                "longitude": place.longitude,
                "current": CURRENT_FIELDS,
                "daily": DAILY_FIELDS,
                "timezone": "auto",
                "forecast_days": clamp_days(days),
            },
        )
        return parse_forecast(payload, place)


def _reason(response: httpx.Response) -> str:
    """Open-Meteo explains a 400 as {"error": true, "reason": "..."}."""
    try:
        reason = response.json().get("reason")
    except (ValueError, AttributeError, RecursionError):
        return ""
    return f": {str(reason)[:200]}" if reason else ""


_provider: WeatherProvider | None = None


def get_provider() -> WeatherProvider:
    """The process's provider, configured from settings on first use."""
    global _provider
    if _provider is None:
        from shared.settings import get_settings

        settings = get_settings()
        _provider = OpenMeteoProvider(
            settings.weather_api_url,
            settings.weather_geocoding_url,
            settings.weather_timeout_seconds,
        )
    return _provider
