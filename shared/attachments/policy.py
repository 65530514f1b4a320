"""What may be attached: names, sizes and types, checked on create and on the bytes.

Declared types are not trusted: the first bytes of images and PDFs must match what the
client said, and text must not be binary.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from shared.errors import ApiError
from shared.settings import Settings

_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
}
_TEXT_TYPES = {"text/plain", "text/markdown", "text/csv", "application/json"}
# The only types a browser may render inline from our origin: no script can run in them.
RASTER_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]+')
_NOT_TOKEN = re.compile(r"[^A-Za-z0-9._ ()+-]+")
# UTF-8 bytes of a name: long enough for any real file name, short enough that the
# percent-encoded header and a read SAS URL carrying it stay far below server limits.
_MAX_NAME_BYTES = 255


class AttachmentRejected(ApiError):
    status = 400
    code = "attachment_rejected"


class AttachmentNotUploaded(AttachmentRejected):
    code = "attachment_not_uploaded"


class AttachmentTooLarge(ApiError):
    status = 413
    code = "attachment_too_large"


class AttachmentChanged(ApiError):
    """The stored bytes are not the ones that were checked (replaced or removed since)."""

    status = 410
    code = "attachment_changed"


def base_type(mime_type: str) -> str:
    return mime_type.split(";")[0].strip().lower()


def safe_name(name: str) -> str:
    """A display/download name with no path, control characters or header breakers."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").split("/")[-1]
    name = _UNSAFE_NAME.sub("_", name).strip(" .")
    if len(name.encode()) > _MAX_NAME_BYTES:
        stem, dot, ext = name.rpartition(".")
        if not (dot and stem and len(ext.encode()) <= 16):
            stem, ext = name, ""
        suffix = f".{ext}" if ext else ""  # kept: it names the type
        budget = _MAX_NAME_BYTES - len(suffix.encode())
        stem = stem.encode()[:budget].decode("utf-8", errors="ignore")
        name = (stem.rstrip(" .") + suffix).strip(" .")
    return name or "file"


def ascii_name(name: str) -> str:
    """The closest plain-ASCII name, for clients that ignore RFC 5987 `filename*`."""

    def plain(text: str) -> str:
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        return _NOT_TOKEN.sub("_", text).strip(" ._")

    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem, ext = plain(stem) or "file", plain(ext)
    return f"{stem}.{ext}" if ext else stem


def is_raster_image(mime_type: str) -> bool:
    return base_type(mime_type) in RASTER_TYPES


def content_disposition(mime_type: str, name: str) -> str:
    """RFC 6266 header for a download: `inline` only for raster images (anything else,
    SVG and HTML included, could carry script), the name as UTF-8 (RFC 5987) with an
    ASCII fallback. Header values must be Latin-1; a raw non-Latin-1 name made a 500."""
    kind = "inline" if is_raster_image(mime_type) else "attachment"
    return f"{kind}; filename=\"{ascii_name(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


def sniff_matches(mime_type: str, head: bytes) -> bool:
    """Whether the first bytes look like the declared type."""
    kind = base_type(mime_type)
    if kind == "image/webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if kind in _SIGNATURES:
        return head.startswith(_SIGNATURES[kind])
    if kind in _TEXT_TYPES:
        if b"\x00" in head:
            return False
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A multi-byte character cut at the end of the sample is still text.
            return exc.start >= len(head) - 3
        return True
    return True


@dataclass(frozen=True)
class AttachmentPolicy:
    max_bytes: int
    allowed_types: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> AttachmentPolicy:
        return cls(settings.attachment_max_bytes, tuple(settings.attachment_types))

    def check_declared(self, name: str, size: int | None, mime_type: str) -> tuple[str, str]:
        """(safe name, base type) for a create request, or a clear 4xx."""
        kind = base_type(mime_type)
        if kind not in self.allowed_types:
            raise AttachmentRejected(
                f"Files of type '{kind[:80]}' cannot be attached. "
                f"Allowed: {', '.join(self.allowed_types)}."
            )
        if size is not None and size > self.max_bytes:
            raise AttachmentTooLarge(
                f"'{safe_name(name)}' is {size} bytes; the limit is {self.max_bytes} bytes."
            )
        if size is not None and size < 0:
            raise AttachmentRejected("The declared file size is negative.")
        return safe_name(name), kind

    def check_bytes(self, name: str, mime_type: str, size: int, head: bytes) -> None:
        """The stored bytes: within the limit and of the declared type."""
        if size > self.max_bytes:
            raise AttachmentTooLarge(
                f"'{name}' is {size} bytes; the limit is {self.max_bytes} bytes."
            )
        if size == 0:
            raise AttachmentRejected(f"'{name}' is empty (was it uploaded?).")
        if not sniff_matches(mime_type, head):
            raise AttachmentRejected(
                f"'{name}' is not a valid {base_type(mime_type)} file: its content does not "
                "match its declared type."
            )

    @staticmethod
    def is_image(mime_type: str) -> bool:
        return base_type(mime_type).startswith("image/")
