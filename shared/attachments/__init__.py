"""Attachment bytes behind ChatKit's `AttachmentStore`: Blob Storage or a local folder."""
