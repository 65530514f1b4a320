"""Model providers and the per-message model picker, over real HTTP."""

from __future__ import annotations

import json

import httpx

from tests.conftest import model_env
from tests.fake_model import Reply

MODELS = [
    {"id": "fast", "label": "Fast", "provider": "openai", "model": "fake-fast"},
    {"id": "smart", "label": "Smart", "provider": "openai", "model": "fake-smart"},
    {"id": "cloud", "label": "Cloud", "provider": "azure", "model": "gpt-cloud"},
]


def test_picker_lists_models_and_honours_the_choice_per_message(start_host, fake_model):
    env = {**model_env(fake_model), "MODELS": json.dumps(MODELS), "DEFAULT_MODEL": "fast"}
    host = start_host(env)
    config = httpx.get(host.url + "/api/config").json()
    assert [(m["id"], m["available"], m["default"]) for m in config["models"]] == [
        ("fast", True, True),
        ("smart", True, False),
        ("cloud", False, False),
    ]
    assert "test-key" not in json.dumps(config)
    client = host.client()

    thread_id = client.create_thread("one", model="smart").thread_id
    assert fake_model.turn_requests[-1].body["model"] == "fake-smart"
    client.add_message(thread_id, "two")
    assert fake_model.turn_requests[-1].body["model"] == "fake-fast"
    client.add_message(thread_id, "three", model="no-such-model")
    assert fake_model.turn_requests[-1].body["model"] == "fake-fast"

    requests_before = len(fake_model.requests)
    refused = client.add_message(thread_id, "four", model="cloud")
    assert len(fake_model.requests) == requests_before
    message = refused.errors[0]["message"]
    assert "Cloud" in message and "AZURE_OPENAI_ENDPOINT" in message


def test_azure_openai_with_key_uses_azure_paths(start_host, fake_model):
    env = {
        "AZURE_OPENAI_ENDPOINT": fake_model.azure_endpoint,
        "AZURE_OPENAI_DEPLOYMENT": "my-deployment",
        "AZURE_OPENAI_API_KEY": "azure-test-key",
        "AZURE_OPENAI_MODEL_API": "chat_completions",
        "OPENAI_API_KEY": "also-set",
        "OPENAI_BASE_URL": fake_model.base_url,
        "MODEL_MAX_RETRIES": "0",
    }
    host = start_host(env)
    health = httpx.get(host.url + "/api/health").json()
    providers = {p["id"]: p for p in health["model_providers"]}
    assert providers["azure"]["configured"] and providers["azure"]["auth"] == "api_key"
    assert "azure-test-key" not in json.dumps(health)

    fake_model.script(Reply.say("From Azure."))
    stream = host.client().create_thread("hello")

    assert stream.text == "From Azure."
    request = fake_model.turn_requests[-1]
    # Azure OpenAI wins when both are configured.
    assert request.path == "/openai/deployments/my-deployment/chat/completions"
    assert request.headers["api-key"] == "azure-test-key"


def test_azure_openai_responses_path(start_host, fake_model):
    env = {
        "AZURE_OPENAI_ENDPOINT": fake_model.azure_endpoint,
        "AZURE_OPENAI_DEPLOYMENT": "my-deployment",
        "AZURE_OPENAI_API_KEY": "azure-test-key",
        "MODEL_MAX_RETRIES": "0",
    }
    fake_model.script(Reply.say("Responses ", "from Azure."), Reply.say("Second."))
    client = start_host(env).client()
    thread_id = client.create_thread("hello").thread_id
    assert client.add_message(thread_id, "again").text == "Second."
    assert fake_model.turn_requests[-1].path == "/openai/responses"
    assert "Responses from Azure." in fake_model.turn_requests[-1].text()
