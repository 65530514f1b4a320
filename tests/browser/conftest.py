"""Browser tests: Debian's Chromium driven by Playwright, through the Static Web Apps CLI
emulator in front of the local host (AUTH_MODE=platform), with the fake model.

Everything runs on loopback. The emulator's mock sign-in page loads jQuery from a CDN;
the tests serve that same jQuery release from node_modules (pinned in package.json) and
refuse every other outside request, so nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, LocalHost, model_env
from tests.fake_model import FakeModel
from tests.servers import NODE_MODULES, SwaEmulator

WEB = ROOT / "static_web"
DIST = WEB / "dist"
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", ROOT / "test-artifacts")) / "screenshots"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Two models on the fake server plus one whose provider is not configured.
PICKER_MODELS = [
    {"id": "fast", "label": "Fast", "provider": "openai", "model": "fake-model"},
    {"id": "smart", "label": "Smart", "provider": "openai", "model": "fake-smart"},
    {"id": "cloud", "label": "Azure GPT", "provider": "azure", "model": "gpt-4.1"},
]
JQUERY_CDN = re.compile(r"^https://ajax\.aspnetcdn\.com/ajax/jquery/.*")


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not path:
        raise RuntimeError("Chromium not found: run scripts/test (it installs Debian's chromium)")
    return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def web_dist() -> Path:
    """The built page; rebuilt when a source file is newer than the build."""
    index = DIST / "index.html"
    sources = [p for p in (WEB / "src").rglob("*") if p.is_file()]
    sources += [WEB / "index.html", WEB / "official.html", *(WEB / "public").iterdir()]
    newest = max(p.stat().st_mtime for p in sources)
    if not index.exists() or index.stat().st_mtime < newest:
        if not (WEB / "node_modules").exists():
            raise RuntimeError("static_web/node_modules is missing: run scripts/test")
        subprocess.run(
            ["npm", "run", "--silent", "build"],
            cwd=WEB,
            check=True,
            env={**os.environ, "STATIC_WEB_CONFIG": "local"},
        )
    return DIST


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module scope, not session: Playwright's sync API keeps an event loop running in
    # this thread while it is open, and pytest-asyncio cannot run async tests then.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Site:
    """The local host plus the SWA emulator in front of it."""

    def __init__(self, env: dict[str, str], work: Path, dist: Path):
        self.host = LocalHost({"AUTH_MODE": "platform", **env}, work / "data")
        try:
            self.swa = SwaEmulator(dist, self.host.url, work)
        except Exception:
            self.host.stop()
            raise
        self.url = self.swa.url

    def stop(self) -> None:
        self.swa.stop()
        self.host.stop()


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
    fake_model_server: FakeModel,
    fake_weather_server: Any,
    web_dist: Path,
) -> Iterator[Site]:
    env = {
        **model_env(fake_model_server),
        **fake_weather_server.env(),
        "MODELS": json.dumps(PICKER_MODELS),
        "DEFAULT_MODEL": "fast",
        # The browser tests exercise widgets, streaming and uploads, not the model's
        # timeouts: leave room for slowly streamed replies.
        "MODEL_TIMEOUT_SECONDS": "30",
    }
    site = Site(env, tmp_path_factory.mktemp("site"), web_dist)
    yield site
    site.stop()


class ChatPage:
    """A signed-in user's browser tab on the site, with the steps the tests repeat."""

    def __init__(self, page: Any, site: Site, test_name: str):
        self.page = page
        self.site = site
        self.test_name = test_name
        self.user_id = uuid.uuid4().hex
        self.console_errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        page.on("pageerror", lambda e: self.console_errors.append(str(e)))

    def sign_in(
        self, name: str = "alice@example.com", user_id: str | None = None, path: str = "/"
    ) -> ChatPage:
        """Through the emulator's own mock sign-in form."""
        from urllib.parse import quote

        self.user_id = user_id or self.user_id
        page = self.page
        page.goto(f"{self.site.url}/.auth/login/aad?post_login_redirect_uri={quote(path, safe='')}")
        for field, value in (("#userId", self.user_id), ("#userDetails", name)):
            page.fill(field, value)
            page.dispatch_event(field, "keyup")  # the form saves its fields on keyup
        page.click("#submit")
        page.wait_for_selector(".app.ready")
        # The mock sign-in page's own CDN requests were refused; only our page counts.
        self.console_errors.clear()
        return self

    def open_use_case(self, name: str) -> None:
        self.page.select_option("select.use-case", name)
        self.page.wait_for_url(re.compile(rf"use_case={name}"))

    def send(self, text: str) -> None:
        box = self.page.get_by_role("textbox", name="Message")
        box.fill(text)
        box.press("Enter")

    def assistant(self, n: int = -1) -> Any:
        items = self.page.locator(".message.assistant")
        return items.nth(n) if n >= 0 else items.last

    def wait_idle(self, timeout: float = 15_000) -> None:
        """The turn finished: Send is back (Stop turns into Send at the end of a stream)."""
        self.page.get_by_role("button", name="Send").wait_for(timeout=timeout)

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.test_name}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def chat(
    browser: Any, site: Site, fake_model: FakeModel, request: pytest.FixtureRequest
) -> Iterator[ChatPage]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 860}, locale="en-US", timezone_id="Europe/Paris"
    )
    jquery = (NODE_MODULES / "jquery" / "dist" / "jquery.min.js").read_bytes()
    # Routes registered later are tried first: the jQuery exception must come second.
    context.route(
        re.compile(r"^https?://(?!127\.0\.0\.1[:/]).*"),
        lambda route: route.abort("internetdisconnected"),
    )
    context.route(
        JQUERY_CDN, lambda route: route.fulfill(body=jquery, content_type="application/javascript")
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    chat_page = ChatPage(page, site, request.node.name)
    yield chat_page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        chat_page.shot("FAILED")
    context.close()
