"""SSO end to end: a real Dex, a real control plane holding argocd-cm and argocd-secret, and the
API served by uvicorn on loopback; the browser's part is played by httpx2 through Dex's own
login form."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import html
import json
import re
import secrets
import urllib.parse
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import jwt
import pytest
from fastapi import APIRouter, Request

from tests.support import dex as dexsupport
from tether import bootstrap
from tether.adapters.devcluster import pki
from tether.adapters.oidc import OidcHttp
from tether.api import server
from tether.api.app import create_app
from tether.api.context import TOKEN_COOKIE, caller_of
from tether.model.errors import IdentityProviderError
from tether.services.auth.oidc import TokenRefused
from tether.services.auth.oidcconfig import SsoConfigReader
from tether.services.auth.oidcflow import Sso, SsoUnavailable
from tether.settings import Settings

STATE_COOKIE = "argocd.oauthstate"


whoami = APIRouter()


@whoami.get("/test/whoami")
async def who(request: Request) -> dict[str, Any]:
    caller = await caller_of(request)
    return {
        "subject": caller.subject,
        "kind": caller.kind,
        "groups": list(caller.groups),
        "issuer": caller.issuer,
    }


@dataclasses.dataclass
class Env:
    url: str
    dex: dexsupport.Dex
    web: dexsupport.Client
    cli: dexsupport.Client
    other: dexsupport.Client
    rt: bootstrap.Runtime
    namespace: str


def oidc_config(issuer: str, **extra: Any) -> str:
    lines = [
        "name: Dex",
        f"issuer: {issuer}",
        "clientID: tether",
        "clientSecret: $oidc.dex.clientSecret",
        "cliClientID: tether-cli",
        "requestedScopes: [openid, profile, email, groups, federated:id]",
        "enablePKCEAuthentication: true",
    ]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


async def write_settings(
    rt: bootstrap.Runtime, namespace: str, url: str, issuer: str, client_secret: str
) -> None:
    """argocd-cm's SSO keys and the client secret, beside what the API server made itself."""
    await rt.cluster.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "argocd-cm", "namespace": namespace},
            "data": {"url": url, "oidc.config": oidc_config(issuer)},
        },
        field_manager="test-sso",
    )
    data = {"oidc.dex.clientSecret": client_secret}
    if await rt.cluster.get("v1", "Secret", "argocd-secret", namespace) is None:
        data["server.secretkey"] = secrets.token_urlsafe(32)
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "argocd-secret", "namespace": namespace},
        "stringData": data,
    }
    await rt.cluster.apply(secret, field_manager="test-sso")


@contextlib.asynccontextmanager
async def serving(rt: bootstrap.Runtime, sso: Sso) -> AsyncIterator[str]:
    app = create_app(await server.build_context(rt, sso=sso), [*server.ROUTERS, whoami])
    urls: asyncio.Queue[str] = asyncio.Queue()
    stop = asyncio.Event()
    task = asyncio.create_task(
        bootstrap.serve_http(
            app, bootstrap.Listen("127.0.0.1", 0), listening=urls.put_nowait, stop=stop
        )
    )
    try:
        yield await asyncio.wait_for(urls.get(), 30)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@pytest.fixture
async def env(kube_cluster, namespace, tmp_path) -> AsyncIterator[Env]:
    settings = Settings(
        app_namespaces=(namespace,), cache_dir=str(tmp_path / "cache"), freeze_gc=False
    )
    async with await bootstrap.runtime(settings, kubeconfig=kube_cluster.kubeconfig) as rt:
        sso = bootstrap.sso(rt)
        async with serving(rt, sso) as url:
            web = dexsupport.Client("tether", secrets.token_urlsafe(16), (url + "/auth/callback",))
            cli = dexsupport.Client("tether-cli", secrets.token_urlsafe(16))
            other = dexsupport.Client("other-app", secrets.token_urlsafe(16))
            # Started from this thread: Dex dies with the thread that spawned it, and a worker
            # thread of asyncio.to_thread could end first.
            dex = dexsupport.start(tmp_path / "dex", [web, cli, other])
            env = Env(url, dex, web, cli, other, rt, namespace)
            try:
                await write_settings(rt, namespace, url, dex.issuer, web.secret)
                yield env
            finally:
                env.dex.stop()
                await sso.aclose()


def set_cookie(response: httpx2.Response, name: str) -> tuple[str, str]:
    """The value and attributes of cookie ``name`` set by ``response``."""
    for header in response.headers.get_list("set-cookie"):
        cookie_name, _, rest = header.partition("=")
        if cookie_name == name:
            value, _, attributes = rest.partition(";")
            return value, attributes.lower()
    raise AssertionError(f"{name} not set")


async def sign_in_through_dex(http: httpx2.AsyncClient, env: Env, location: str) -> httpx2.Response:
    """Follow the issuer's redirects, fill in Dex's login form, and follow on to our callback."""
    response = await http.get(location)
    while response.status_code in (302, 303):
        target = urllib.parse.urljoin(str(response.url), response.headers["location"])
        response = await http.get(target)
    assert response.status_code == 200, response.text
    form = re.search(r'<form method="post" action="([^"]+)"', response.text)
    assert form is not None, "Dex's login form"
    action = urllib.parse.urljoin(str(response.url), html.unescape(form.group(1)))
    response = await http.post(
        action, data={"login": dexsupport.USER_EMAIL, "password": env.dex.password}
    )
    callback = env.url + "/auth/callback"
    while response.status_code in (302, 303):
        target = urllib.parse.urljoin(str(response.url), response.headers["location"])
        if target.startswith(callback):
            return response
        response = await http.get(target)
    raise AssertionError(f"Dex did not send the browser back: {response.status_code}")


async def test_a_browser_login_through_dex_sets_a_session_cookie_that_proves_the_dex_user(env):
    return_url = env.url + "/applications?view=tree"
    async with httpx2.AsyncClient(timeout=30) as http:
        login = await http.get(env.url + "/auth/login", params={"return_url": return_url})
        assert login.status_code == 303
        state, attributes = set_cookie(login, STATE_COOKIE)
        for flag in ("httponly", "secure", "samesite=lax", "max-age=300"):
            assert flag in attributes
        location = login.headers["location"]
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
        assert location.startswith(env.dex.issuer + "/auth?")
        assert query["code_challenge_method"] == ["S256"]
        assert query["client_id"] == ["tether"]
        assert query["redirect_uri"] == [env.url + "/auth/callback"]
        assert "federated:id" in query["scope"][0].split()
        assert query["state"][0] not in state  # the cookie is sealed, not the state in clear

        back = await sign_in_through_dex(http, env, location)
        callback = urllib.parse.urljoin(str(back.url), back.headers["location"])
        done = await http.get(callback, headers={"Cookie": f"{STATE_COOKIE}={state}"})
        assert done.status_code == 303, done.text
        assert done.headers["location"] == return_url
        token, attributes = set_cookie(done, TOKEN_COOKIE)
        for flag in ("httponly", "secure", "samesite=lax", "path=/"):
            assert flag in attributes
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["iss"] == env.dex.issuer

        me = await http.get(env.url + "/test/whoami", headers={"Cookie": f"{TOKEN_COOKIE}={token}"})
        assert me.status_code == 200, me.text
        assert me.json() == {
            "subject": dexsupport.USER_ID,
            "kind": "sso",
            "groups": [dexsupport.USER_GROUP],
            "issuer": env.dex.issuer,
        }

        replay = await http.get(callback, headers={"Cookie": f"{STATE_COOKIE}={state}"})
        assert replay.status_code == 400  # Dex honours a code once


async def test_password_grant_id_tokens_of_the_web_and_cli_clients_are_accepted_as_bearers(env):
    for client in (env.web, env.cli):
        tokens = await asyncio.to_thread(env.dex.password_token, client)
        async with httpx2.AsyncClient(timeout=30) as http:
            me = await http.get(
                env.url + "/test/whoami",
                headers={"Authorization": f"Bearer {tokens['id_token']}"},
            )
        assert me.status_code == 200, me.text
        assert me.json()["subject"] == dexsupport.USER_ID
        assert me.json()["groups"] == [dexsupport.USER_GROUP]


async def test_tokens_for_another_audience_or_altered_ones_are_refused(env):
    foreign = (await asyncio.to_thread(env.dex.password_token, env.other))["id_token"]
    own = (await asyncio.to_thread(env.dex.password_token, env.web))["id_token"]
    header, _payload, signature = own.split(".")
    claims = jwt.decode(own, options={"verify_signature": False})
    claims["groups"] = ["admin"]
    forged_payload = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    forged = f"{header}.{forged_payload}.{signature}"
    async with httpx2.AsyncClient(timeout=30) as http:
        for token, reason in (
            (foreign, "another audience"),
            (forged, "invalid"),
            (own[:-4] + "AAAA", "invalid"),
        ):
            me = await http.get(
                env.url + "/test/whoami", headers={"Authorization": f"Bearer {token}"}
            )
            assert me.status_code == 401, me.text
            assert reason in me.json()["message"]
            assert token not in me.text


async def test_an_expired_sso_token_is_refused(env):
    token = (await asyncio.to_thread(env.dex.password_token, env.web))["id_token"]

    def in_two_days() -> datetime.datetime:
        return bootstrap.now() + datetime.timedelta(days=2)

    reader = SsoConfigReader(env.rt.cluster, env.namespace, in_two_days)
    later = Sso(
        reader, lambda ca, skip: OidcHttp(root_ca=ca, insecure_skip_verify=skip), in_two_days
    )
    try:
        with pytest.raises(TokenRefused) as refused:
            await later.verify(token)
        assert refused.value.expired
    finally:
        await later.aclose()


async def test_a_token_signed_with_a_rotated_key_is_accepted_once_the_keys_are_fetched_again(
    env, tmp_path
):
    now = [bootstrap.now()]
    reader = SsoConfigReader(env.rt.cluster, env.namespace, lambda: now[0])
    sso = Sso(
        reader, lambda ca, skip: OidcHttp(root_ca=ca, insecure_skip_verify=skip), lambda: now[0]
    )
    try:
        first = (await asyncio.to_thread(env.dex.password_token, env.web))["id_token"]
        assert (await sso.verify(first)).subject == dexsupport.USER_ID
        port = urllib.parse.urlsplit(env.dex.issuer).port
        assert port is not None
        env.dex.stop()
        clients = [env.web, env.cli, env.other]
        env.dex = dexsupport.start(tmp_path / "dex-again", clients, port=port)
        rotated = (await asyncio.to_thread(env.dex.password_token, env.web))["id_token"]
        assert jwt.get_unverified_header(rotated)["kid"] != jwt.get_unverified_header(first)["kid"]
        with pytest.raises(TokenRefused, match="does not publish"):
            await sso.verify(rotated)  # the keys were fetched moments ago: no refetch yet
        now[0] += datetime.timedelta(seconds=11)
        assert (await sso.verify(rotated)).subject == dexsupport.USER_ID
        with pytest.raises(TokenRefused, match="does not publish"):
            await sso.verify(first)  # the old key is gone from the set
    finally:
        await sso.aclose()


async def test_a_wrong_or_tampered_state_and_an_issuer_error_are_refused_with_escaped_text(env):
    async with httpx2.AsyncClient(timeout=30) as http:
        login = await http.get(env.url + "/auth/login")
        state, _ = set_cookie(login, STATE_COOKIE)
        sent_state = urllib.parse.parse_qs(urllib.parse.urlsplit(login.headers["location"]).query)[
            "state"
        ][0]
        callback = env.url + "/auth/callback"
        wrong = await http.get(
            callback,
            params={"code": "x", "state": "not-the-state"},
            headers={"Cookie": f"{STATE_COOKIE}={state}"},
        )
        assert wrong.status_code == 400
        assert "does not match" in wrong.text
        tampered = state[:-3] + ("AAA" if not state.endswith("AAA") else "BBB")
        altered = await http.get(
            callback,
            params={"code": "x", "state": sent_state},
            headers={"Cookie": f"{STATE_COOKIE}={tampered}"},
        )
        assert altered.status_code == 400
        assert "invalid" in altered.text
        missing = await http.get(callback, params={"code": "x", "state": sent_state})
        assert missing.status_code == 400
        script = "<script>alert(document.cookie)</script>"
        failed = await http.get(
            callback, params={"error": script, "error_description": '"><img src=x onerror=1>'}
        )
        assert failed.status_code == 400
        assert failed.headers["content-type"].startswith("text/html")
        assert "<script>" not in failed.text and "<img" not in failed.text
        assert html.escape(script) in failed.text


async def test_login_refuses_a_return_url_outside_the_server_and_settings_show_no_secrets(env):
    async with httpx2.AsyncClient(timeout=30) as http:
        outside = await http.get(
            env.url + "/auth/login", params={"return_url": "https://evil.example.test/"}
        )
        assert outside.status_code == 400
        assert STATE_COOKIE not in outside.headers.get("set-cookie", "")
        public = await http.get(env.url + "/api/v1/settings")
    assert public.status_code == 200
    body = public.json()
    assert body["url"] == env.url
    assert body["oidcConfig"] == {
        "name": "Dex",
        "issuer": env.dex.issuer,
        "clientID": "tether",
        "cliClientID": "tether-cli",
        "scopes": ["openid", "profile", "email", "groups", "federated:id"],
        "enablePKCEAuthentication": True,
    }
    assert env.web.secret not in public.text
    assert "clientSecret" not in public.text


async def test_without_a_server_secret_key_login_is_unavailable_and_says_why(env):
    # The server made the key at start; an operator who later removes it gets a clear 503.
    await env.rt.cluster.delete(
        "v1", "Secret", "argocd-secret", env.namespace, propagation="Background"
    )
    await env.rt.cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "argocd-secret", "namespace": env.namespace},
            "stringData": {"oidc.dex.clientSecret": env.web.secret},
        }
    )
    async with httpx2.AsyncClient(timeout=30) as http:
        for _ in range(150):  # the settings are re-read every few seconds
            login = await http.get(env.url + "/auth/login")
            if login.status_code == 503:
                break
            await asyncio.sleep(0.1)
    assert login.status_code == 503
    assert "server.secretkey" in login.json()["message"]


async def test_the_issuers_tls_certificate_is_verified_unless_trusted_or_skipped(
    kube_cluster, namespace, tmp_path
):
    certs = pki.generate(tmp_path / "pki")
    tls = (certs.path("apiserver.crt"), certs.path("apiserver.key"), certs.path("ca.crt"))
    dex = dexsupport.start(tmp_path / "dex", [dexsupport.Client("tether", "s")], tls=tls)
    settings = Settings(
        app_namespaces=(namespace,), cache_dir=str(tmp_path / "cache"), freeze_gc=False
    )
    try:
        async with await bootstrap.runtime(
            settings, kubeconfig=kube_cluster.kubeconfig, start_cache=False
        ) as rt:
            await write_settings(rt, namespace, "https://cd.example.test", dex.issuer, "s")

            async def login_with(data: dict[str, str]) -> str:
                await rt.cluster.patch(
                    "v1", "ConfigMap", "argocd-cm", namespace, patch={"data": data}
                )
                sso = bootstrap.sso(rt)
                try:
                    return (await sso.begin("")).location
                finally:
                    await sso.aclose()

            with pytest.raises(SsoUnavailable, match=r"discovery request to https://127\.0\.0\.1"):
                await login_with({})
            ca = tls[2].read_text()
            config = (
                oidc_config(dex.issuer)
                + "rootCA: |\n"
                + "".join(f"  {line}\n" for line in ca.splitlines())
            )
            assert (await login_with({"oidc.config": config})).startswith(dex.issuer + "/auth?")
            skip = {"oidc.config": oidc_config(dex.issuer), "oidc.tls.insecure.skip.verify": "true"}
            assert (await login_with(skip)).startswith(dex.issuer + "/auth?")
    finally:
        dex.stop()


async def test_a_refused_code_exchange_names_the_endpoint_never_the_code_or_secret(env):
    made_up = "code-" + secrets.token_urlsafe(16)
    http = OidcHttp()
    try:
        discovery = await http.discovery(env.dex.issuer)
        with pytest.raises(IdentityProviderError) as refused:
            await http.exchange(
                discovery["token_endpoint"],
                {"grant_type": "authorization_code", "code": made_up, "redirect_uri": env.url},
                env.web.id,
                env.web.secret,
            )
    finally:
        await http.aclose()
    message = str(refused.value)
    origin = env.dex.issuer.removesuffix("/dex")
    assert message.startswith(f"OIDC token endpoint at {origin} answered 4")
    assert "(invalid_" in message
    assert made_up not in message and env.web.secret not in message
