"""Attachments under attack (issue 13): repeated ids, the per-request attachment budget,
bytes replaced after their check, chunked uploads past the limit, malformed multipart,
non-Latin-1 names and active content (SVG). Over real HTTP, on both stores."""

from __future__ import annotations

import asyncio
import base64
import select
import socket
import time
import uuid
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

from tests.chatkit_client import user_input
from tests.conftest import model_env
from tests.fake_model import Reply
from tests.test_e2e_attachments import ALICE, PNG, _blob_names, _create, _send, _upload


def _env(fake_model, store_env: dict[str, str], **extra: object) -> dict[str, str]:
    return {**model_env(fake_model), **store_env, **{k: str(v) for k, v in extra.items()}}


def _attach(client, name: str, mime: str, data: bytes, headers: dict | None = None) -> dict:
    attachment = _create(client, name, mime, len(data))
    uploaded = _upload(attachment, data, headers or {}, mime)
    assert uploaded.status_code in (200, 201), uploaded.text
    return attachment


def _content_url(host, attachment: dict) -> str:
    return f"{host.url}/api/attachments/{attachment['id']}/content"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _pdf(marker: str, size: int) -> bytes:
    body = f"%PDF-1.4\n% {marker} ".encode()
    return (body + b"x" * size)[:size]


def _add(client, thread_id: str, text: str, attachment_ids: list[str]):
    payload = {**user_input(text), "attachments": attachment_ids}
    return client.stream("threads.add_user_message", thread_id=thread_id, input=payload)


@pytest.fixture
def blob_env(azurite_server, fake_model) -> dict[str, str]:
    return {
        **model_env(fake_model),
        "AUTH_MODE": "platform",
        "AZURE_STORAGE_CONNECTION_STRING": azurite_server.connection_string,
        "ATTACHMENTS_CONTAINER": f"att{uuid.uuid4().hex[:12]}",
    }


def _replace_blob(azurite_server, container: str, attachment_id: str, data: bytes) -> None:
    """Change a blob behind the app's back, with the account key (only an operator can)."""
    from azure.storage.blob.aio import ContainerClient

    async def replace() -> None:
        async with ContainerClient.from_connection_string(
            azurite_server.connection_string, container
        ) as client:
            async for blob in client.list_blobs():
                if blob.name.endswith(attachment_id):
                    await client.upload_blob(blob.name, data, overwrite=True)
                    return
            raise AssertionError("blob not found")

    asyncio.run(replace())


def _stored_blobs(azurite_server, container: str) -> list[str]:
    from azure.core.exceptions import ResourceNotFoundError

    try:
        return _blob_names(azurite_server, container)
    except ResourceNotFoundError:
        return []  # nothing ever reached Blob Storage


# 1. Amplification: one id repeated, and the budget of one model request


def test_a_repeated_attachment_id_is_one_attachment(start_host, fake_model, store_env):
    host = start_host(_env(fake_model, store_env, MAX_ATTACHMENTS_PER_MESSAGE=2))
    client = host.client()
    png = _attach(client, "p.png", "image/png", PNG)

    fake_model.script(Reply.say("One picture."))
    stream = _send(client, "Look", [png["id"]] * 10)
    assert stream.status == 200 and not stream.errors, stream.body or stream.events
    stored = [i for i in client.items(stream.thread_id) if i["type"] == "user_message"]
    assert [a["id"] for a in stored[0]["attachments"]] == [png["id"]]
    assert fake_model.turn_requests[-1].text().count(_b64(PNG)) == 1

    # Sent again in a later message: still one copy in the model request.
    fake_model.script(Reply.say("The same one."))
    again = _add(client, stream.thread_id, "Again", [png["id"]] * 5)
    assert again.status == 200 and not again.errors, again.body or again.events
    assert fake_model.turn_requests[-1].text().count(_b64(PNG)) == 1

    # Distinct ids still count against the limit.
    other = _attach(client, "q.png", "image/png", PNG)
    third = _attach(client, "r.png", "image/png", PNG)
    refused = _send(client, "Three", [png["id"], other["id"], third["id"], png["id"]])
    assert refused.status == 400 and "at most 2" in refused.body["error"]["message"]


@pytest.mark.parametrize("bound", ["bytes", "count"])
def test_model_requests_stay_within_the_attachment_budget(start_host, fake_model, store_env, bound):
    size = 20_000
    limits = (
        {"MODEL_ATTACHMENT_MAX_BYTES": 50_000}  # two files fit
        if bound == "bytes"
        else {"MODEL_ATTACHMENT_MAX_COUNT": 2}
    )
    host = start_host(_env(fake_model, store_env, **limits))
    client = host.client()
    files: list[tuple[dict, bytes]] = []
    thread_id = None
    for turn in range(5):
        data = _pdf(f"turn {turn}", size)
        attachment = _attach(client, f"report-{turn}.pdf", "application/pdf", data)
        files.append((attachment, data))
        # The first file rides along in every message: several history items carry it.
        ids = [attachment["id"]] + ([files[0][0]["id"]] if turn else [])
        fake_model.script(Reply.say(f"Read {turn}."))
        if thread_id is None:
            stream = _send(client, f"Turn {turn}", ids)
            thread_id = stream.thread_id
        else:
            stream = _add(client, thread_id, f"Turn {turn}", ids)
        assert not stream.errors, stream.body or stream.events

        body = fake_model.turn_requests[-1].text()
        included = [data for _, data in files if _b64(data) in body]
        assert len(included) <= 2
        assert sum(len(data) for data in included) <= 50_000
        for _, data in files:
            assert body.count(_b64(data)) <= 1
        assert _b64(files[-1][1]) in body, "the newest attachment is sent first"
        for sent, _ in files:
            assert sent["name"] in body, "attachments left out are still named"


# 2. Checked bytes cannot change


def test_the_direct_upload_url_cannot_replace_the_bytes(start_host, fake_model, blob_env):
    host = start_host(blob_env)
    client = host.client(**ALICE)
    attachment = _create(client, "p.png", "image/png", len(PNG))
    descriptor = attachment["upload_descriptor"]
    assert "sp=c&" in descriptor["url"], "the upload SAS must be create-only"
    assert _upload(attachment, PNG, ALICE, "image/png").status_code == 201

    html = b"<html><script>alert(1)</script></html>" * 1000
    before = httpx.put(descriptor["url"], content=html, headers=descriptor["headers"])
    assert before.status_code in (403, 409), before.text

    fake_model.script(Reply.say("A pixel."))
    stream = _send(client, "What is this?", [attachment["id"]])
    assert not stream.errors, stream.events
    after = httpx.put(descriptor["url"], content=html, headers=descriptor["headers"])
    assert after.status_code in (403, 409), after.text

    preview = httpx.get(attachment["preview_url"], headers=ALICE, follow_redirects=True)
    assert preview.status_code == 200 and preview.content == PNG


def test_a_direct_upload_past_the_limit_is_refused_however_small_it_was_declared(
    start_host, fake_model, blob_env, azurite_server
):
    host = start_host({**blob_env, "ATTACHMENT_MAX_BYTES": "8192"})
    client = host.client(**ALICE)
    attachment = _create(client, "p.png", "image/png", len(PNG))
    assert _upload(attachment, PNG + b"\0" * 100_000, ALICE, "image/png").status_code == 201
    refused = _send(client, "What is this?", [attachment["id"]])
    assert refused.status == 413, refused.body or refused.events
    assert "limit" in refused.body["error"]["message"]
    assert _stored_blobs(azurite_server, blob_env["ATTACHMENTS_CONTAINER"]) == []


def test_a_direct_upload_is_checked_before_its_preview_serves_it(
    start_host, fake_model, blob_env, azurite_server
):
    host = start_host(blob_env)
    client = host.client(**ALICE)
    fake = _create(client, "p.png", "image/png", 40)
    html = b"<html><script>alert(document.cookie)</script></html>"
    assert _upload(fake, html, ALICE, "image/png").status_code == 201
    preview = httpx.get(fake["preview_url"], headers=ALICE, follow_redirects=True)
    assert preview.status_code == 400, preview.text
    assert "does not match its declared type" in preview.json()["error"]["message"]
    assert _stored_blobs(azurite_server, blob_env["ATTACHMENTS_CONTAINER"]) == []

    real = _attach(client, "q.png", "image/png", PNG, ALICE)
    preview = httpx.get(real["preview_url"], headers=ALICE, follow_redirects=True)
    assert preview.status_code == 200 and preview.content == PNG
    fake_model.script(Reply.say("A pixel."))
    stream = _send(client, "What is this?", [real["id"]])  # checked once, at the preview
    assert not stream.errors and _b64(PNG) in fake_model.turn_requests[-1].text()


@pytest.mark.parametrize("mode", ["direct", "app", "direct-url"])
def test_a_blob_changed_after_its_check_is_neither_sent_nor_served(
    start_host, fake_model, blob_env, azurite_server, mode
):
    env = {**blob_env, "ATTACHMENT_UPLOAD": mode.split("-")[0]}
    if mode.endswith("url"):
        env["ATTACHMENT_IMAGE_INPUT"] = "url"
    host = start_host(env)
    client = host.client(**ALICE)
    attachment = _attach(client, "p.png", "image/png", PNG, ALICE)
    fake_model.script(Reply.say("A pixel."))
    stream = _send(client, "What is this?", [attachment["id"]])
    assert not stream.errors, stream.events

    swapped = PNG + b"<svg onload=alert(1)>" * 100
    _replace_blob(azurite_server, env["ATTACHMENTS_CONTAINER"], attachment["id"], swapped)

    fake_model.script(Reply.say("Still a pixel?"))
    later = _add(client, stream.thread_id, "And now?", [])
    assert not later.errors, later.events
    sent = fake_model.turn_requests[-1].text()
    assert _b64(swapped) not in sent and "sig=" not in sent
    assert "no longer available" in sent

    preview = httpx.get(attachment["preview_url"], headers=ALICE, follow_redirects=True)
    assert preview.status_code == 410, preview.text
    assert preview.json()["error"]["code"] == "attachment_changed"


def test_a_local_file_changed_after_its_check_is_neither_sent_nor_served(
    start_host, fake_model, tmp_path: Path
):
    host = start_host(model_env(fake_model))
    client = host.client()
    attachment = _attach(client, "p.png", "image/png", PNG)
    fake_model.script(Reply.say("A pixel."))
    stream = _send(client, "What is this?", [attachment["id"]])
    assert not stream.errors, stream.events
    assert _b64(PNG) in fake_model.turn_requests[-1].text()

    (path,) = (host.data_dir / "attachments").rglob(attachment["id"])
    swapped = PNG + b"<svg onload=alert(1)>"
    path.write_bytes(swapped)  # in place: same inode, other size and time

    fake_model.script(Reply.say("Still a pixel?"))
    later = _add(client, stream.thread_id, "And now?", [])
    assert not later.errors, later.events
    sent = fake_model.turn_requests[-1].text()
    assert _b64(swapped) not in sent and "no longer available" in sent

    preview = httpx.get(attachment["preview_url"])
    assert preview.status_code == 410 and preview.json()["error"]["code"] == "attachment_changed"


# 7. Chunked uploads past the limit


def _chunked_upload(method: str, url: str, head: bytes, content_type: str, total: int):
    """Send a chunked body (no Content-Length) of up to `total` bytes, never finishing it:
    returns (the response head the server sent, bytes the client got to send)."""
    target = httpx.URL(url)
    sock = socket.create_connection((target.host, target.port))
    headers = {
        "Host": f"{target.host}:{target.port}",
        "Content-Type": content_type,
        "Transfer-Encoding": "chunked",
    }
    request = f"{method} {target.raw_path.decode()} HTTP/1.1\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()
    )
    sent = 0
    block = b"A" * 65536
    try:
        sock.sendall(request.encode() + b"\r\n")
        sock.sendall(b"%x\r\n%s\r\n" % (len(head), head))
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break  # the server answered before the body ended
            sock.sendall(b"%x\r\n%s\r\n" % (len(block), block))
            sent += len(block)
    except OSError:
        pass  # it answered and closed the connection while we were still sending
    answer = b""
    sock.settimeout(10)
    try:
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    except OSError:
        pass
    sock.close()
    return answer, sent


@pytest.mark.parametrize("store", ["local", "blob-app"])
@pytest.mark.parametrize("body", ["multipart", "raw"])
def test_a_chunked_upload_past_the_limit_is_refused_while_it_streams(
    start_host, fake_model, azurite_server, store, body
):
    limit = 65_536
    env = {**model_env(fake_model), "ATTACHMENT_MAX_BYTES": str(limit)}
    if store == "blob-app":
        container = f"att{uuid.uuid4().hex[:12]}"
        env.update(
            AZURE_STORAGE_CONNECTION_STRING=azurite_server.connection_string,
            ATTACHMENTS_CONTAINER=container,
            ATTACHMENT_UPLOAD="app",
        )
    host = start_host(env)
    client = host.client()
    attachment = _create(client, "big.txt", "text/plain", 10)
    url = attachment["upload_descriptor"]["url"]
    total = 64 * 1024 * 1024
    if body == "multipart":
        head = (
            b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
            b"Content-Type: text/plain\r\n\r\n"
        )
        form = "multipart/form-data; boundary=XyZ"
        answer, sent = _chunked_upload("POST", url, head, form, total)
    else:
        answer, sent = _chunked_upload("PUT", url, b"A", "text/plain", total)

    assert answer.startswith(b"HTTP/1.1 413"), (answer[:200], sent)
    # The server stopped reading at the limit: most of the 64 MB could not even be sent
    # (what was, sits in the sockets' buffers).
    assert sent < total // 4, sent
    assert httpx.get(_content_url(host, attachment), follow_redirects=True).status_code == 404
    if store == "blob-app":
        assert _stored_blobs(azurite_server, container) == []
    else:
        stored = (host.data_dir / "attachments").rglob("*")
        assert not [path for path in stored if path.is_file()]  # no file, no partial


# 10. Malformed multipart


def _multipart(*parts: bytes, boundary: bytes = b"XyZ") -> bytes:
    return b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts) + (
        b"--" + boundary + b"--\r\n"
    )


_FILE_PART = b'Content-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello'
_MALFORMED = {
    "no boundary": ("multipart/form-data", _multipart(_FILE_PART), 400),
    "two files": (
        "multipart/form-data; boundary=XyZ",
        _multipart(_FILE_PART, _FILE_PART.replace(b'"file"', b'"other"')),
        400,
    ),
    "unnamed part": (
        "multipart/form-data; boundary=XyZ",
        _multipart(b'Content-Disposition: form-data; filename="a.txt"\r\n\r\nhello'),
        400,
    ),
    "oversized field": (
        "multipart/form-data; boundary=XyZ",
        _multipart(
            b'Content-Disposition: form-data; name="note"\r\n\r\n' + b"n" * 20_000, _FILE_PART
        ),
        400,
    ),
    "no file field": (
        "multipart/form-data; boundary=XyZ",
        _multipart(b'Content-Disposition: form-data; name="file"\r\n\r\nhello'),
        400,
    ),
    "not multipart at all": ("multipart/form-data; boundary=XyZ", b"hello", 400),
    "multipart but not a form": ("multipart/mixed; boundary=XyZ", _multipart(_FILE_PART), 415),
    "a form, sent by PUT": ("application/x-www-form-urlencoded", b"file=hello", 415),
    "a huge boundary": (
        "multipart/form-data; boundary=" + "b" * 5000,
        _multipart(_FILE_PART, boundary=b"b" * 5000),
        400,
    ),
}


@pytest.mark.parametrize("case", list(_MALFORMED))
def test_malformed_multipart_is_a_clear_4xx(start_host, fake_model, case):
    host = start_host(model_env(fake_model))
    client = host.client()
    attachment = _create(client, "a.txt", "text/plain", 5)
    content_type, body, status = _MALFORMED[case]
    method = "PUT" if "PUT" in case else "POST"
    response = httpx.request(
        method,
        attachment["upload_descriptor"]["url"],
        content=body,
        headers={"content-type": content_type},
    )
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] and error["message"]
    assert httpx.get(_content_url(host, attachment)).status_code == 404


# 8. Names that are not Latin-1


def _filename(disposition: str) -> str:
    for param in disposition.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "filename*":
            charset, _, encoded = value.partition("''")
            assert charset.upper() == "UTF-8"
            return unquote(encoded)
    raise AssertionError(f"no filename* in {disposition!r}")


@pytest.mark.parametrize(
    ("name", "mime", "data"),
    [
        ("привет.txt", "text/plain", "Привет, мир".encode()),
        ("报告.pdf", "application/pdf", b"%PDF-1.4\n%%EOF\n"),
        ("😀.png", "image/png", PNG),
    ],
)
def test_names_that_are_not_latin1_download(start_host, fake_model, store_env, name, mime, data):
    host = start_host(_env(fake_model, store_env))
    client = host.client()
    attachment = _attach(client, name, mime, data)
    assert attachment["name"] == name
    response = httpx.get(_content_url(host, attachment), follow_redirects=True, timeout=10)
    assert response.status_code == 200, response.text
    assert response.content == data
    disposition = response.headers["content-disposition"]
    assert _filename(disposition) == name
    assert 'filename="file.' in disposition  # a plain-ASCII fallback for old clients


# 16. Active content


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>'


def test_svg_is_a_sandboxed_download_and_rasters_stay_inline(start_host, fake_model, store_env):
    types = "image/png,image/svg+xml,text/plain"
    host = start_host(_env(fake_model, store_env, ATTACHMENT_TYPES=types))
    client = host.client()
    svg = _attach(client, "logo.svg", "image/svg+xml", SVG)
    png = _attach(client, "p.png", "image/png", PNG)

    for attachment, kind in ((svg, "attachment"), (png, "inline")):
        url = attachment.get("preview_url") or attachment["upload_descriptor"]["url"]
        direct = httpx.get(url, follow_redirects=False)
        served = httpx.get(url, follow_redirects=True)
        assert served.status_code == 200
        assert served.headers["content-disposition"].startswith(kind + ";")
        if direct.status_code == 200:  # served by the app (not a redirect to Blob)
            assert direct.headers["content-security-policy"] == "sandbox"
            assert direct.headers["x-content-type-options"] == "nosniff"

    # The model gets the SVG as text (model APIs take raster images only).
    fake_model.script(Reply.say("A logo."))
    stream = _send(client, "What is this?", [svg["id"]])
    assert not stream.errors, stream.events
    assert "alert(document.domain)" in fake_model.turn_requests[-1].text()


# Attacks on the fixes themselves


def test_huge_and_empty_uploads(start_host, fake_model, store_env):
    host = start_host(_env(fake_model, store_env))
    client = host.client()

    long_name = "😀" * 50_000 + ".png"
    attachment = _attach(client, long_name, "image/png", PNG)
    assert len(attachment["name"].encode()) <= 255 and attachment["name"].endswith(".png")
    response = httpx.get(attachment["preview_url"], follow_redirects=True, timeout=10)
    assert response.status_code == 200 and response.content == PNG

    empty = _create(client, "empty.txt", "text/plain", 0)
    uploaded = _upload(empty, b"", {}, "text/plain")
    if uploaded.status_code in (200, 201):  # straight to Blob: checked when sent
        refused = _send(client, "Empty?", [empty["id"]])
        assert refused.status == 400 and "empty" in refused.body["error"]["message"]
    else:
        assert uploaded.status_code == 400 and "empty" in uploaded.json()["error"]["message"]


def test_two_uploads_racing_for_one_attachment_never_serve_unchecked_bytes(start_host, fake_model):
    """Two tabs upload different files to one attachment at once: whichever wins, what
    the model gets and the preview serves is a version that passed the check."""
    host = start_host(model_env(fake_model))
    client = host.client()
    first, second = PNG, PNG + b"\0" * 100
    for _ in range(5):
        attachment = _create(client, "p.png", "image/png", len(PNG))
        url = attachment["upload_descriptor"]["url"]

        async def race(url: str) -> list[int]:
            async with httpx.AsyncClient(timeout=30) as http:
                responses = await asyncio.gather(
                    *(
                        http.post(url, files={"file": ("p.png", data, "image/png")})
                        for data in (first, second)
                    )
                )
            return [r.status_code for r in responses]

        assert asyncio.run(race(url)) == [200, 200]
        preview = httpx.get(attachment["preview_url"])
        assert preview.status_code in (200, 410)
        if preview.status_code == 200:
            assert preview.content in (first, second)
        fake_model.script(Reply.say("ok"))
        stream = _send(client, "Which?", [attachment["id"]])
        assert not stream.errors, stream.events
        sent = fake_model.turn_requests[-1].text()
        shown = [f'base64,{_b64(data)}"' in sent for data in (first, second)]
        assert sum(shown) + ("no longer available" in sent) == 1
        time.sleep(0.05)
