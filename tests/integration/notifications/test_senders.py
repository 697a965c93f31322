"""The senders against real receivers on loopback: GitHub's API, Slack's, webhooks, SMTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support import receivers
from tether.adapters.notifyhttp import HttpSender
from tether.adapters.notifymail import SmtpSender
from tether.model.errors import DeliveryError
from tether.ports import Message

pytestmark = pytest.mark.timeout(30)

SHA = "0123456789abcdef0123456789abcdef01234567"


def github(settings: dict[str, Any], secrets: tuple[str, ...] = ()) -> Message:
    content = {
        "message": "x" * 300,
        "github": {
            "repoURLPath": "https://github.com/acme/shop.git",
            "revisionPath": SHA,
            "status": {"state": "success", "label": "cd/shop", "targetURL": "https://cd/x"},
        },
    }
    return Message("github", "github", "", settings, content, secrets)


async def test_a_commit_status_goes_to_the_enterprise_api_with_a_token():
    sender = HttpSender()
    with receivers.http_receiver() as api:
        try:
            await sender.send(github({"enterpriseBaseURL": api.url + "/api/v3", "token": "t0k"}))
        finally:
            await sender.aclose()
    (request,) = api.requests
    assert request.path == f"/api/v3/repos/acme/shop/statuses/{SHA}"
    assert request.headers["authorization"] == "Bearer t0k"
    body = json.loads(request.body)
    assert body == {
        "state": "success",
        "context": "cd/shop",
        "description": "x" * 140,
        "target_url": "https://cd/x",
    }


async def test_github_app_credentials_are_exchanged_for_an_installation_token_once():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    settings = {"appID": "12", "installationID": "34", "privateKey": pem}
    sender = HttpSender()
    with receivers.http_receiver() as api:
        api.reply = b'{"token": "ghs_installation"}'
        settings["enterpriseBaseURL"] = api.url + "/api/v3"
        try:
            await sender.send(github(settings))
            await sender.send(github(settings))
        finally:
            await sender.aclose()
    paths = [r.path for r in api.requests]
    assert paths[0] == "/api/v3/app/installations/34/access_tokens"
    assert paths.count(paths[0]) == 1
    assert api.requests[-1].headers["authorization"] == "Bearer ghs_installation"


async def test_a_refusal_is_not_retried_and_an_outage_is_and_neither_shows_the_token():
    sender = HttpSender()
    with receivers.http_receiver() as api:
        settings = {"enterpriseBaseURL": api.url, "token": "t0k-secret"}
        try:
            api.status = 401
            with pytest.raises(DeliveryError, match="HTTP 401") as refused:
                await sender.send(github(settings, ("t0k-secret",)))
            assert not refused.value.retryable
            api.status = 503
            with pytest.raises(DeliveryError, match="HTTP 503") as busy:
                await sender.send(github(settings, ("t0k-secret",)))
            assert busy.value.retryable
            api.status = 422  # GitHub's cap of statuses per commit: not an error
            await sender.send(github(settings))
        finally:
            await sender.aclose()
    assert "t0k-secret" not in str(refused.value) + str(busy.value)


async def test_a_webhook_path_rendered_from_tenant_text_stays_on_the_configured_host():
    sender = HttpSender()

    def message(path: str) -> Message:
        content = {"webhook": {"w": {"method": "POST", "path": path, "body": "{}"}}}
        return Message("webhook", "w", "", {"url": hook.url + "/base"}, content)

    with receivers.http_receiver() as hook:
        try:
            with pytest.raises(DeliveryError, match="leaves the configured host"):
                await sender.send(message("x@evil.example/x"))
            await sender.send(message("//evil.example/x"))
        finally:
            await sender.aclose()
    assert [r.path for r in hook.requests] == ["/base/evil.example/x"]


async def test_slack_with_a_bot_token_posts_to_chat_post_message_and_reads_its_verdict():
    sender = HttpSender()
    with receivers.http_receiver() as slack:
        settings = {"apiURL": slack.url + "/api/", "token": "xoxb-1", "username": "cd"}
        content = {"message": "hello", "slack": {"attachments": '[{"color": "good"}]'}}
        slack.reply = b'{"ok": true}'
        try:
            await sender.send(Message("slack", "slack", "#deploys", settings, content))
            slack.reply = b'{"ok": false, "error": "channel_not_found"}'
            with pytest.raises(DeliveryError, match="channel_not_found"):
                await sender.send(Message("slack", "slack", "#gone", settings, content))
        finally:
            await sender.aclose()
    first = slack.requests[0]
    assert (first.path, first.headers["authorization"]) == (
        "/api/chat.postMessage",
        "Bearer xoxb-1",
    )
    assert json.loads(first.body) == {
        "text": "hello",
        "attachments": [{"color": "good"}],
        "channel": "#deploys",
        "username": "cd",
    }


async def test_an_email_goes_to_the_smtp_server_with_the_templates_subject():
    with receivers.smtp_receiver() as (port, mails):
        settings = {"host": "127.0.0.1", "port": port, "from": "cd@example.com"}
        content = {"message": "body text", "email": {"subject": "Synced:\n shop"}}
        await SmtpSender().send(Message("email", "email", "ops@example.com", settings, content))
        with pytest.raises(DeliveryError, match="not one e-mail address"):
            bad = "ops@example.com, other@example.com"
            await SmtpSender().send(Message("email", "email", bad, settings, content))
    (mail,) = mails
    assert (mail["From"], mail["To"], mail["Subject"]) == (
        "cd@example.com",
        "ops@example.com",
        "Synced: shop",
    )
    assert mail.get_content().strip() == "body text"


async def test_an_smtp_server_that_is_down_is_a_retryable_failure():
    with receivers.smtp_receiver() as (port, _):
        pass
    settings = {"host": "127.0.0.1", "port": port, "from": "cd@example.com"}
    with pytest.raises(DeliveryError) as down:
        await SmtpSender().send(Message("email", "email", "a@example.com", settings, {}))
    assert down.value.retryable


async def test_a_webhook_without_its_template_block_gets_a_get_carrying_the_message():
    sender = HttpSender()
    with receivers.http_receiver() as hook:
        try:
            await sender.send(Message("webhook", "w", "", {"url": hook.url}, {"message": "hi"}))
        finally:
            await sender.aclose()
    (request,) = hook.requests
    assert (request.method, request.path, request.body) == ("GET", "/", b"hi")
