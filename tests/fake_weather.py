"""A scriptable fake of Open-Meteo's geocoding and forecast APIs on a loopback port.

It answers the same paths, query parameters and JSON shapes as the real service
(`GET /v1/search`, `GET /v1/forecast`), so the real `OpenMeteoProvider` and its httpx
client run against it. Geocoding and forecast live under different prefixes to prove
the app uses `WEATHER_GEOCODING_URL` and `WEATHER_API_URL` separately.

Tests add places, script failures (an HTTP status, a slow answer, a body that is not
JSON) for the next N requests of one endpoint, and assert on the recorded requests.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.servers import ThreadedApp

Endpoint = Literal["geocoding", "forecast"]
FIRST_DAY = date(2025, 6, 2)  # a Monday, so day labels are predictable


@dataclass
class FakePlace:
    name: str
    latitude: float
    longitude: float
    country: str
    admin1: str
    timezone: str
    temperature: float  # °C, like Open-Meteo's default
    weather_code: int
    wind_speed: float  # km/h
    # (weather_code, max °C, min °C) per day; repeated cyclically for longer forecasts.
    daily: list[tuple[int | None, float | None, float | None]] = field(
        default_factory=lambda: [(1, 20.0, 10.0)]
    )
    observed_at: str = "2025-06-02T14:15"

    def geocoding_result(self, index: int) -> dict[str, Any]:
        return {
            "id": 1000 + index,
            "name": self.name,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "elevation": 35.0,
            "feature_code": "PPLC",
            "country_code": self.country[:2].upper(),
            "timezone": self.timezone,
            "population": 1_000_000,
            "country_id": 2000 + index,
            "country": self.country,
            "admin1_id": 3000 + index,
            "admin1": self.admin1,
        }


DEFAULT_PLACES = (
    FakePlace(
        "Paris",
        48.85341,
        2.3488,
        "France",
        "Île-de-France",
        "Europe/Paris",
        21.4,
        2,
        11.2,
        [(2, 23.6, 12.1), (61, 19.2, 11.4), (95, 17.8, 10.9), (0, 25.0, 13.3)],
    ),
    FakePlace(
        "London",
        51.50853,
        -0.12574,
        "United Kingdom",
        "England",
        "Europe/London",
        14.2,
        3,
        19.8,
        [(3, 16.1, 9.7), (63, 15.0, 9.1), (80, 14.4, 8.8)],
    ),
    FakePlace(
        "New York",
        40.71427,
        -74.00597,
        "United States",
        "New York",
        "America/New_York",
        27.0,
        0,
        8.0,
        [(0, 30.0, 20.0), (1, 29.0, 21.0), (2, 28.0, 19.0)],
    ),
    FakePlace(
        "Tokyo",
        35.6895,
        139.69171,
        "Japan",
        "Tokyo",
        "Asia/Tokyo",
        18.5,
        45,
        5.5,
        [(45, 22.2, 16.6), (53, 21.1, 15.5), (71, 3.0, -1.5)],
    ),
    FakePlace(
        "Sydney",
        -33.86785,
        151.20732,
        "Australia",
        "New South Wales",
        "Australia/Sydney",
        12.3,
        81,
        24.0,
        [(81, 15.5, 8.25), (3, 16.0, 9.0)],
    ),
    FakePlace(
        "Cairo",
        30.06263,
        31.24967,
        "Egypt",
        "Cairo",
        "Africa/Cairo",
        35.7,
        0,
        15.1,
        [(0, 38.0, 24.0)],
    ),
)


@dataclass
class Failure:
    status: int = 503
    hang: float = 0.0  # seconds before answering (timeouts)
    not_json: bool = False
    times: int | None = 1  # how many requests it applies to; None: until reset


@dataclass
class Seen:
    endpoint: Endpoint
    params: dict[str, str]


class FakeWeather:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.places: dict[str, FakePlace] = {}
        self.requests: list[Seen] = []
        self._failures: dict[Endpoint, Failure] = {}
        self._runner: ThreadedApp | None = None
        self.port = 0
        self.reset()

    # Scripting

    def reset(self) -> None:
        with self._lock:
            self.places = {p.name.lower(): p for p in DEFAULT_PLACES}
            self.requests = []
            self._failures = {}

    def add_place(self, place: FakePlace) -> None:
        with self._lock:
            self.places[place.name.lower()] = place

    def fail(
        self,
        endpoint: Endpoint,
        status: int = 503,
        *,
        hang: float = 0.0,
        not_json: bool = False,
        times: int | None = 1,
    ) -> None:
        with self._lock:
            self._failures[endpoint] = Failure(status, hang, not_json, times)

    def seen(self, endpoint: Endpoint) -> list[dict[str, str]]:
        with self._lock:
            return [s.params for s in self.requests if s.endpoint == endpoint]

    # Serving

    @property
    def geocoding_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/geocoding/v1"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/forecast/v1"

    def env(self) -> dict[str, str]:
        return {"WEATHER_API_URL": self.api_url, "WEATHER_GEOCODING_URL": self.geocoding_url}

    def start(self) -> FakeWeather:
        app = Starlette(
            routes=[
                Route("/geocoding/v1/search", self._search, methods=["GET"]),
                Route("/forecast/v1/forecast", self._forecast, methods=["GET"]),
            ]
        )
        self._runner = ThreadedApp(app, "fake weather server")
        self.port = self._runner.start()
        return self

    def stop(self) -> None:
        if self._runner is not None:
            self._runner.stop()

    def _record(self, endpoint: Endpoint, request: Request) -> Failure | None:
        with self._lock:
            self.requests.append(Seen(endpoint, dict(request.query_params)))
            failure = self._failures.get(endpoint)
            if failure is not None and failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    del self._failures[endpoint]
            return failure

    async def _failed(self, failure: Failure | None) -> Response | None:
        if failure is None:
            return None
        if failure.hang:
            await asyncio.sleep(failure.hang)
        if failure.not_json:
            return PlainTextResponse("<html>maintenance</html>", status_code=failure.status)
        if failure.status == 200:
            return None
        return JSONResponse(
            {"error": True, "reason": f"fake failure {failure.status}"}, status_code=failure.status
        )

    async def _search(self, request: Request) -> Response:
        failed = await self._failed(self._record("geocoding", request))
        if failed is not None:
            return failed
        name = request.query_params.get("name", "").strip().lower()
        if not name:
            return JSONResponse({"error": True, "reason": "Parameter 'name' is required"}, 400)
        with self._lock:
            index, place = next(
                ((i, p) for i, (key, p) in enumerate(self.places.items()) if key == name),
                (0, None),
            )
        # Like Open-Meteo: no match means no `results` key at all.
        body: dict[str, Any] = {"generationtime_ms": 0.4}
        if place is not None:
            body["results"] = [place.geocoding_result(index)]
        return JSONResponse(body)

    async def _forecast(self, request: Request) -> Response:
        failed = await self._failed(self._record("forecast", request))
        if failed is not None:
            return failed
        query = request.query_params
        try:
            latitude, longitude = float(query["latitude"]), float(query["longitude"])
            days = int(query.get("forecast_days", "7"))
        except (KeyError, ValueError):
            return JSONResponse({"error": True, "reason": "Invalid coordinates"}, 400)
        if not 0 <= days <= 16:
            reason = "Forecast days is invalid. Allowed range 0 to 16."
            return JSONResponse({"error": True, "reason": reason}, 400)
        place = self._at(latitude, longitude)
        return JSONResponse(_forecast_body(place, latitude, longitude, days))

    def _at(self, latitude: float, longitude: float) -> FakePlace:
        with self._lock:
            for place in self.places.values():
                if (
                    abs(place.latitude - latitude) < 0.01
                    and abs(place.longitude - longitude) < 0.01
                ):
                    return place
        return FakePlace("Anywhere", latitude, longitude, "", "", "GMT", 15.0, 1, 10.0)


def _forecast_body(place: FakePlace, latitude: float, longitude: float, days: int) -> dict:
    daily = [place.daily[i % len(place.daily)] for i in range(days)]
    return {
        "latitude": round(latitude, 2),
        "longitude": round(longitude, 2),
        "generationtime_ms": 0.05,
        "utc_offset_seconds": 7200,
        "timezone": place.timezone,
        "timezone_abbreviation": "GMT+2",
        "elevation": 38.0,
        "current_units": {
            "time": "iso8601",
            "interval": "seconds",
            "temperature_2m": "°C",
            "weather_code": "wmo code",
            "wind_speed_10m": "km/h",
        },
        "current": {
            "time": place.observed_at,
            "interval": 900,
            "temperature_2m": place.temperature,
            "weather_code": place.weather_code,
            "wind_speed_10m": place.wind_speed,
        },
        "daily_units": {
            "time": "iso8601",
            "weather_code": "wmo code",
            "temperature_2m_max": "°C",
            "temperature_2m_min": "°C",
        },
        "daily": {
            "time": [(FIRST_DAY + timedelta(days=i)).isoformat() for i in range(days)],
            "weather_code": [d[0] for d in daily],
            "temperature_2m_max": [d[1] for d in daily],
            "temperature_2m_min": [d[2] for d in daily],
        },
    }
