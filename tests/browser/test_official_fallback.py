"""Official component mode: with a domain key configured, the page switches to the
official ChatKit component; OpenAI's CDN is unreachable here, so the page must fall
back to the self-hosted client and say so. Also checks each page's CSP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Site
from tests.conftest import model_env
from tests.fake_model import FakeModel, Reply


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, fake_model_server: FakeModel, web_dist: Path
) -> Iterator[Site]:
    env = {**model_env(fake_model_server), "CHATKIT_DOMAIN_KEY": "domain_pk_test_123"}
    site = Site(env, tmp_path_factory.mktemp("official"), web_dist)
    yield site
    site.stop()


def test_an_unreachable_cdn_falls_back_to_the_self_hosted_client(chat, fake_model):
    page = chat.page
    cdn_requests: list[str] = []
    page.on("request", lambda r: "cdn.platform.openai.com" in r.url and cdn_requests.append(r.url))
    chat.sign_in(path="/?use_case=todo")
    expect(page.locator(".page-notice")).to_contain_text("could not be loaded from OpenAI's CDN")
    assert cdn_requests, "the official page never tried the CDN"
    assert re.search(r"[?&]use_case=todo", page.url)
    expect(page.locator("select.use-case")).to_have_value("todo")
    chat.shot("fallback")

    fake_model.script(Reply.say("Still here."))
    chat.send("Hello?")
    expect(chat.assistant()).to_have_text("Still here.")


def test_self_hosted_can_be_chosen_explicitly(chat):
    page = chat.page
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    chat.sign_in(path="/?ui=self-hosted")
    expect(page.locator(".start")).to_be_visible()
    assert not any("official.html" in url for url in requested)
    expect(page.locator(".page-notice")).to_have_count(0)


def test_each_page_admits_only_what_it_needs(site: Site):
    def csp(path: str) -> dict[str, Any]:
        header = httpx.get(site.url + path, timeout=10).headers["content-security-policy"]
        directives = (part.strip().split() for part in header.split(";") if part.strip())
        return {d[0]: d[1:] for d in directives}

    index, official = csp("/"), csp("/official.html")
    assert index["script-src"] == ["'self'"]
    assert "https://cdn.platform.openai.com" in official["script-src"]
    assert all("openai" not in " ".join(values) for values in index.values())
    for page in (index, official):
        assert page["frame-ancestors"] == ["'none'"] and page["object-src"] == ["'none'"]
