"""What `GET /api/config` and `GET /api/health` tell clients. Never secrets."""

from __future__ import annotations

from typing import Any

from shared.runtime import Runtime

API_VERSION = "0.1.0"


def config_body(runtime: Runtime) -> dict[str, Any]:
    from use_cases import registry

    settings = runtime.settings
    catalog = runtime.catalog
    default_model = catalog.default_option()
    return {
        "use_cases": [use_case.public() for use_case in registry().values()],
        "default_use_case": settings.default_use_case,
        "models": catalog.public_models(),
        "default_model": default_model.id if default_model else None,
        "model_configured": catalog.any_configured,
        "attachments": {
            "enabled": settings.max_attachments_per_message > 0,
            "max_bytes": settings.attachment_max_bytes,
            "max_per_message": settings.max_attachments_per_message,
            "accept": settings.attachment_types,
            "upload": (
                "app" if settings.attachment_backend == "local" else settings.attachment_upload
            ),
        },
        "chatkit": {
            "api_path": "/api/chatkit",
            "domain_key": settings.chatkit_domain_key,
        },
        "auth_mode": settings.auth_mode,
    }


def health_body(runtime: Runtime) -> dict[str, Any]:
    from use_cases import registry

    return {
        "status": "ok",
        "version": API_VERSION,
        "store": {"kind": runtime.settings.store_kind},
        "attachments": {"kind": runtime.settings.attachment_backend},
        "model_providers": [p.public() for p in runtime.catalog.providers.values()],
        "auth_mode": runtime.settings.auth_mode,
        "use_cases": sorted(registry()),
    }
