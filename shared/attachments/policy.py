"""What may be attached: names, sizes and types, checked on create and on the bytes.

Declared types are not trusted: the first bytes of images and PDFs must match what the
client said, and text must not be binary.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from shared.errors import ApiError
from shared.settings import Settings

_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
}
_TEXT_TYPES = {"text/plain", "text/markdown", "text/csv", "application/json"}
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]+')


class AttachmentRejected(ApiError):
    status = 400
    code = "attachment_rejected"


class AttachmentNotUploaded(AttachmentRejected):
    code = "attachment_not_uploaded"


class AttachmentTooLarge(ApiError):
    status = 413
    code = "attachment_too_large"


def base_type(mime_type: str) -> str:
    return mime_type.split(";")[0].strip().lower()


def safe_name(name: str) -> str:
    """A display/download name with no path, control characters or header breakers."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").split("/")[-1]
    name = _UNSAFE_NAME.sub("_", name).strip(" .")
    return name[:200] or "file"


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
