"""Blob Storage faults on the real wire (a proxy in front of Azurite answers chosen
requests with 503): short retries ride out a blip; a longer outage answers a clear,
retryable 503 without losing the attachment, and the same upload works once Blob is back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import model_env
from tests.servers import AZURITE_ACCOUNT, AZURITE_KEY
from tests.servers.fault_proxy import FaultProxy
from tests.test_e2e_attachments import PNG


@pytest.fixture
def proxy(azurite_server: Any) -> Iterator[FaultProxy]:
    server = FaultProxy(f"http://127.0.0.1:{azurite_server.port}")
    yield server
    server.stop()


@pytest.fixture
def host(start_host, fake_model, proxy):
    connection = (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={proxy.url}/{AZURITE_ACCOUNT};"
    )
    return start_host(
        {
            **model_env(fake_model),
            "AZURE_STORAGE_CONNECTION_STRING": connection,
            "ATTACHMENTS_CONTAINER": f"t{uuid.uuid4().hex[:16]}",
            "ATTACHMENT_UPLOAD": "app",
        }
    )


def _upload(host, attachment_id: str) -> httpx.Response:
    return httpx.post(
        f"{host.url}/api/attachments/{attachment_id}/upload",
        files={"file": ("dot.png", PNG, "image/png")},
        timeout=30,
    )


def test_blob_blips_are_retried_and_outages_are_a_retryable_503(host, proxy):
    client = host.client()
    first = client.call("attachments.create", name="dot.png", size=len(PNG), mime_type="image/png")

    proxy.inject(503, 2, method="PUT")
    assert _upload(host, first["id"]).status_code == 200
    assert proxy.injected == 2  # two failures absorbed by the retries

    second = client.call("attachments.create", name="dot.png", size=len(PNG), mime_type="image/png")
    proxy.inject(503, 1000, method="PUT")
    refused = _upload(host, second["id"])
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"]["code"] == "store_unavailable"
    assert refused.headers["retry-after"]
    assert "Traceback" not in refused.text and "127.0.0.1" not in refused.text

    proxy.inject(0)
    assert _upload(host, second["id"]).status_code == 200
    for attachment in (first, second):
        content = httpx.get(f"{host.url}/api/attachments/{attachment['id']}/content")
        assert content.status_code in (200, 302)
