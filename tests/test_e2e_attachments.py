"""Attachments end to end over HTTP: the embedded folder store, and Blob Storage on
Azurite with both upload paths (direct SAS PUT and multipart through the app)."""

from __future__ import annotations

import base64
import json
import struct
import time
import uuid
import zlib

import httpx
import pytest

from tests.chatkit_client import user_input
from tests.conftest import model_env
from tests.fake_model import Reply
from tests.test_e2e_bad_input import principal


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG = tiny_png()
ALICE = {"x-ms-client-principal": principal("alice")}
BOB = {"x-ms-client-principal": principal("bob")}


def _create(client, name: str, mime: str, size: int) -> dict:
    return client.call("attachments.create", name=name, size=size, mime_type=mime)


def _upload(attachment: dict, data: bytes, headers: dict, mime: str) -> httpx.Response:
    descriptor = attachment["upload_descriptor"]
    if descriptor["method"] == "PUT":
        return httpx.put(
            descriptor["url"], content=data, headers=descriptor.get("headers", {}), timeout=30
        )
    return httpx.post(
        descriptor["url"],
        files={"file": ("upload", data, mime)},
        headers={**descriptor.get("headers", {}), **headers},
        timeout=30,
    )


def _send(client, text: str, attachment_ids: list[str]):
    payload = user_input(text)
    payload["attachments"] = attachment_ids
    return client.stream("threads.create", input=payload)


def _image_sent_to_model(fake_model) -> str:
    body = fake_model.turn_requests[-1].text()
    marker = "data:image/png;base64,"
    assert marker in body, "the model did not receive the image"
    encoded = body.split(marker, 1)[1].split('"', 1)[0]
    return encoded


@pytest.fixture
def blob_env(azurite_server, fake_model):
    return {
        **model_env(fake_model),
        "AUTH_MODE": "platform",
        "AZURE_STORAGE_CONNECTION_STRING": azurite_server.connection_string,
        "ATTACHMENTS_CONTAINER": f"att{uuid.uuid4().hex[:12]}",
    }


def _blob_names(azurite_server, container: str) -> list[str]:
    import asyncio

    from azure.storage.blob.aio import ContainerClient

    async def names() -> list[str]:
        async with ContainerClient.from_connection_string(
            azurite_server.connection_string, container
        ) as client:
            return [b.name async for b in client.list_blobs()]

    return asyncio.run(names())


@pytest.mark.parametrize("mode", ["local", "blob-direct", "blob-app", "cosmos-blob-direct"])
def test_image_flow(start_host, fake_model, azurite_server, blob_env, mode, request):
    env = {**model_env(fake_model), "AUTH_MODE": "platform"}
    if mode != "local":
        env = {**blob_env, "ATTACHMENT_UPLOAD": mode.split("-")[-1]}
    if mode.startswith("cosmos"):
        from tests.conftest import cosmos_env

        env.update(cosmos_env(request.getfixturevalue("cosmos_server"), f"d{uuid.uuid4().hex}"))
    host = start_host(env)
    alice, bob = host.client(**ALICE), host.client(**BOB)

    attachment = _create(alice, "../../etc/photo\r\n.png", "image/png", len(PNG))
    assert attachment["type"] == "image" and attachment["name"] == "photo_.png"
    expected_method = "PUT" if mode.endswith("direct") else "POST"
    assert attachment["upload_descriptor"]["method"] == expected_method
    uploaded = _upload(attachment, PNG, ALICE, "image/png")
    assert uploaded.status_code in (200, 201), uploaded.text

    fake_model.script(Reply.say("A tiny green pixel."))
    stream = _send(alice, "What is in this picture?", [attachment["id"]])
    assert not stream.errors, stream.events
    assert stream.text == "A tiny green pixel."
    assert base64.b64decode(_image_sent_to_model(fake_model)) == PNG
    thread_id = stream.thread_id

    preview = attachment["preview_url"]
    owner = httpx.get(preview, headers=ALICE, follow_redirects=True)
    assert owner.status_code == 200 and owner.content == PNG
    assert owner.headers["content-type"].startswith("image/png")
    other = httpx.get(preview, headers=BOB, follow_redirects=True)
    missing = httpx.get(
        preview.replace(attachment["id"], "atc_01JZZZZZZZZZZZZZZZZZZZZZZZ"), headers=BOB
    )
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()
    assert bob.request("attachments.delete", attachment_id=attachment["id"]).status_code == 404

    alice.call("threads.delete", thread_id=thread_id)
    assert httpx.get(preview, headers=ALICE).status_code == 404
    if mode != "local":
        assert _blob_names(azurite_server, env["ATTACHMENTS_CONTAINER"]) == []


def test_text_file_reaches_the_model_inline(start_host, fake_model):
    host = start_host(model_env(fake_model))
    client = host.client()
    data = b"name,qty\nwidget,3\n"
    attachment = _create(client, "order.csv", "text/csv", len(data))
    assert attachment["type"] == "file"
    assert _upload(attachment, data, {}, "text/csv").status_code == 200
    _send(client, "Summarise this", [attachment["id"]])
    assert "widget,3" in fake_model.turn_requests[-1].text()


def test_removing_an_attachment_before_sending_deletes_its_bytes(
    start_host, fake_model, blob_env, azurite_server
):
    host = start_host(blob_env)
    client = host.client(**ALICE)
    attachment = _create(client, "p.png", "image/png", len(PNG))
    assert _upload(attachment, PNG, ALICE, "image/png").status_code == 201
    assert _blob_names(azurite_server, blob_env["ATTACHMENTS_CONTAINER"])
    assert client.call("attachments.delete", attachment_id=attachment["id"]) == {}
    assert _blob_names(azurite_server, blob_env["ATTACHMENTS_CONTAINER"]) == []


def test_direct_upload_lies_are_caught_before_the_message_is_stored(
    start_host, fake_model, blob_env, azurite_server
):
    host = start_host({**blob_env, "ATTACHMENT_MAX_BYTES": "2048"})
    client = host.client(**ALICE)
    container = blob_env["ATTACHMENTS_CONTAINER"]

    not_png = _create(client, "fake.png", "image/png", 10)
    assert _upload(not_png, b"this is not an image", ALICE, "image/png").status_code == 201
    refused = client.stream(
        "threads.create", input={**user_input("look"), "attachments": [not_png["id"]]}
    )
    assert refused.status == 400
    assert "does not match its declared type" in refused.body["error"]["message"]

    big = _create(client, "big.png", "image/png", 100)
    assert _upload(big, PNG + b"\0" * 4096, ALICE, "image/png").status_code == 201
    refused = client.stream(
        "threads.create", input={**user_input("look"), "attachments": [big["id"]]}
    )
    assert refused.status == 413
    assert "limit" in refused.body["error"]["message"]

    pending = _create(client, "later.png", "image/png", len(PNG))
    refused = client.stream(
        "threads.create", input={**user_input("look"), "attachments": [pending["id"]]}
    )
    assert refused.status == 400 and "not been uploaded" in refused.body["error"]["message"]

    # Nothing was stored: no thread, and the rejected blobs are gone.
    assert client.call("threads.list")["data"] == []
    assert _blob_names(azurite_server, container) == []
    for rejected in (not_png, big):
        gone = client.request("attachments.delete", attachment_id=rejected["id"])
        assert gone.status_code == 404


def test_app_upload_limits_and_sniffing(start_host, fake_model):
    host = start_host({**model_env(fake_model), "ATTACHMENT_MAX_BYTES": "2048"})
    client = host.client()

    big = _create(client, "big.png", "image/png", 100)
    response = _upload(big, PNG + b"\0" * 4096, {}, "image/png")
    assert response.status_code == 413
    assert httpx.get(big["preview_url"]).status_code == 404

    fake = _create(client, "fake.png", "image/png", 20)
    response = _upload(fake, b"GIF89a but claims png", {}, "image/png")
    assert response.status_code == 400
    assert "does not match" in response.json()["error"]["message"]

    raw = _create(client, "notes.txt", "text/plain", 5)
    url = raw["upload_descriptor"]["url"]
    assert httpx.put(url, content=b"hello").status_code == 200
    no_file = httpx.post(url, files={"other": ("x", b"x", "text/plain")})
    assert no_file.status_code == 400 and "'file'" in no_file.json()["error"]["message"]


def test_sas_urls_are_enforced(start_host, fake_model, blob_env):
    host = start_host({**blob_env, "ATTACHMENT_URL_TTL_SECONDS": "2"})
    client = host.client(**ALICE)

    tampered = _create(client, "t.png", "image/png", len(PNG))
    url = tampered["upload_descriptor"]["url"]
    assert "sp=c&" in url  # create-only: the URL cannot overwrite what it wrote
    forged = url.replace("sp=c&", "sp=cw&")  # granting itself write breaks the signature
    response = httpx.put(forged, content=PNG, headers=tampered["upload_descriptor"]["headers"])
    assert response.status_code == 403

    other_blob = _create(client, "o.png", "image/png", len(PNG))
    elsewhere = other_blob["upload_descriptor"]["url"].replace(other_blob["id"], tampered["id"])
    response = httpx.put(elsewhere, content=PNG, headers=other_blob["upload_descriptor"]["headers"])
    assert response.status_code == 403

    expired = _create(client, "e.png", "image/png", len(PNG))
    time.sleep(3)
    assert _upload(expired, PNG, ALICE, "image/png").status_code == 403


def test_config_reports_attachment_limits(start_host, fake_model):
    host = start_host({**model_env(fake_model), "ATTACHMENT_MAX_BYTES": "1000"})
    config = httpx.get(host.url + "/api/config").json()["attachments"]
    assert config["enabled"] is True and config["max_bytes"] == 1000
    assert "image/png" in config["accept"] and config["upload"] == "app"
    assert json.dumps(config).count("AccountKey") == 0


@pytest.mark.parametrize("api", ["responses", "chat_completions"])
def test_pdf_and_image_reach_the_model_on_both_api_paths(start_host, fake_model, api):
    host = start_host(model_env(fake_model, api=api))
    client = host.client()
    pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    ids = []
    for name, mime, data in (("report.pdf", "application/pdf", pdf), ("p.png", "image/png", PNG)):
        attachment = _create(client, name, mime, len(data))
        assert _upload(attachment, data, {}, mime).status_code == 200
        ids.append(attachment["id"])

    fake_model.script(Reply.say("Both received."))
    stream = _send(client, "Read these", ids)

    assert stream.text == "Both received.", stream.events
    sent = fake_model.turn_requests[-1].text()
    assert base64.b64encode(pdf).decode() in sent
    assert "report.pdf" in sent
    assert base64.b64decode(_image_sent_to_model(fake_model)) == PNG
