"""Logins, sessions and logouts against the real app over a real socket (AC-03..AC-05, AC-07)."""

from __future__ import annotations

import asyncio
import datetime
import re

import bcrypt
import jwt

from tests.integration.api.conftest import Api, Clock, StartApi
from tether.core.auth import login

INVALID = {
    "error": login.INVALID_LOGIN,
    "code": 16,
    "message": login.INVALID_LOGIN,
    "details": [],
}


async def test_the_first_start_writes_a_random_admin_password_that_logs_in(api: Api) -> None:
    password = await api.admin_password()
    assert re.fullmatch(r"[0-9A-Za-z-]{16,}", password)
    hashed = await api.secret_field("argocd-secret", "admin.password")
    assert bcrypt.checkpw(password.encode(), hashed.encode())
    assert int(hashed.split("$")[2]) >= 10
    async with api.client() as http:
        answer = await http.post(
            "/api/v1/session", json={"username": "admin", "password": password}
        )
    assert answer.status_code == 200
    token = answer.json()["token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == "argocd" and claims["sub"] == "admin:login"
    assert claims["exp"] - int(claims["iat"]) == 24 * 3600
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"argocd.token={token};")
    for flag in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"):
        assert flag.lower() in cookie.lower()
    async with api.client(token) as http:
        info = (await http.get("/api/v1/session/userinfo")).json()
    assert info == {"loggedIn": True, "username": "admin", "iss": "argocd", "groups": []}


async def test_two_replicas_starting_together_agree_on_one_admin_password(
    start_api: StartApi,
) -> None:
    first, second = await asyncio.gather(start_api(), start_api())
    password = await first.admin_password()
    await first.login("admin", password)
    await second.login("admin", password)
    assert await first.secret_field("argocd-secret", "server.secretkey")


async def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(api: Api) -> None:
    async with api.client() as http:
        wrong = await http.post("/api/v1/session", json={"username": "admin", "password": "x" * 9})
        unknown = await http.post("/api/v1/session", json={"username": "nobody", "password": "y"})
        blank = await http.post("/api/v1/session", json={"username": "admin", "password": ""})
        long_name = await http.post("/api/v1/session", json={"username": "a" * 33, "password": "p"})
    for answer in (wrong, unknown, blank):
        assert answer.status_code == 401
        assert answer.json() == INVALID
    assert wrong.headers.keys() == unknown.headers.keys()
    assert long_name.status_code == 400


async def test_five_failures_lock_the_user_even_against_the_right_password(api: Api) -> None:
    password = await api.admin_password()
    async with api.client() as http:
        for _ in range(5):
            answer = await http.post(
                "/api/v1/session", json={"username": "admin", "password": "wrong-one"}
            )
            assert answer.status_code == 401
        locked = await http.post(
            "/api/v1/session", json={"username": "admin", "password": password}
        )
    assert locked.status_code == 401
    assert locked.json() == INVALID


async def test_thirty_parallel_bad_logins_are_refused_and_the_server_keeps_serving(
    api: Api,
) -> None:
    async with api.client() as http:
        answers = await asyncio.gather(
            *(
                http.post("/api/v1/session", json={"username": "admin", "password": f"bad-{n}"})
                for n in range(30)
            )
        )
        assert [a.status_code for a in answers] == [401] * 30
        assert all(a.json() == INVALID for a in answers)
        assert (await http.get("/api/version")).status_code == 200


async def test_a_session_ends_when_users_session_duration_has_passed(start_api: StartApi) -> None:
    clock = Clock()
    api = await start_api(clock)
    await api.put("ConfigMap", "argocd-cm", {"users.session.duration": "10m"})
    await asyncio.sleep(1.1)  # past the settings cache
    token = await api.login("admin", await api.admin_password())
    async with api.client(token) as http:
        assert (await http.get("/api/v1/account/admin")).status_code == 200
        clock.offset = datetime.timedelta(minutes=10, seconds=1)
        expired = await http.get("/api/v1/account/admin")
    assert expired.status_code == 401
    assert expired.json()["message"] == "invalid session: token is expired"


async def test_a_password_change_ends_every_older_session(api: Api) -> None:
    password = await api.admin_password()
    old = await api.login("admin", password)
    other_old = await api.login("admin", password)
    async with api.client(old) as http:
        wrong = await http.put(
            "/api/v1/account/password",
            json={"name": "admin", "currentPassword": "nope", "newPassword": "a-new-password"},
        )
        short = await http.put(
            "/api/v1/account/password",
            json={"name": "admin", "currentPassword": password, "newPassword": "short"},
        )
        changed = await http.put(
            "/api/v1/account/password",
            json={"name": "admin", "currentPassword": password, "newPassword": "a-new-password"},
        )
    assert wrong.status_code == 400
    assert short.status_code == 400
    assert changed.status_code == 200, changed.text
    async with api.client(other_old) as http:
        answer = await http.get("/api/v1/account/admin")
    assert answer.status_code == 401
    assert "password has changed" in answer.json()["message"]
    fresh = await api.login("admin", "a-new-password")
    async with api.client(fresh) as http:
        assert (await http.get("/api/v1/account/admin")).status_code == 200


async def test_logout_on_one_replica_revokes_the_session_on_another(start_api: StartApi) -> None:
    first = await start_api()
    second = await start_api()
    token = await first.login("admin", await first.admin_password())
    async with second.client(token) as http:
        assert (await http.get("/api/v1/account/admin")).status_code == 200
    async with first.client() as http:
        out = await http.get("/auth/logout", headers={"Cookie": f"argocd.token={token}"})
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert "argocd.token=" in out.headers["set-cookie"]
    deadline = asyncio.get_running_loop().time() + 5
    async with second.client(token) as http:
        while True:
            answer = await http.get("/api/v1/account/admin")
            if answer.status_code == 401 or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.2)
    assert answer.status_code == 401
    assert answer.json()["message"] == "invalid session: token is revoked"


async def test_delete_session_revokes_the_token_and_empties_the_cookie(api: Api) -> None:
    token = await api.login("admin", await api.admin_password())
    async with api.client(token) as http:
        answer = await http.delete("/api/v1/session")
        assert answer.status_code == 200 and answer.json() == {"token": ""}
        assert answer.headers["set-cookie"].startswith('argocd.token="";')
        assert (await http.get("/api/v1/account/admin")).status_code == 401


async def test_userinfo_and_version_answer_without_a_token(api: Api) -> None:
    async with api.client() as http:
        info = await http.get("/api/v1/session/userinfo")
        version = await http.get("/api/version")
        accounts = await http.get("/api/v1/account")
    assert info.json() == {"loggedIn": False}
    assert list(version.json()) == ["Version"]
    assert accounts.status_code == 401
    assert accounts.json()["message"] == "no session information"
    token = await api.login("admin", await api.admin_password())
    async with api.client(token) as http:
        full = (await http.get("/api/version")).json()
    assert {"Version", "BuildDate", "GitCommit", "Platform", "KustomizeVersion"} <= set(full)


async def test_a_form_post_is_refused_and_every_answer_has_security_headers(api: Api) -> None:
    async with api.client() as http:
        form = await http.post("/api/v1/session", data={"username": "admin", "password": "x"})
        plain = await http.get("/api/version")
    assert form.status_code == 415
    for answer in (form, plain):
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


async def test_tokens_that_prove_nothing_are_refused(api: Api) -> None:
    key = (await api.secret_field("argocd-secret", "server.secretkey")).encode()
    now = int(datetime.datetime.now(datetime.UTC).timestamp())
    base = {"iss": "argocd", "sub": "admin:login", "jti": "j", "iat": now, "nbf": now}
    forged = {
        "bad signature": jwt.encode(base, b"not-the-key-but-long-enough-32by"),
        "alg none": jwt.encode(base, "", algorithm="none"),
        "expired": jwt.encode({**base, "exp": now - 10}, key),
        "not yet valid": jwt.encode({**base, "nbf": now + 600}, key),
        "other issuer": jwt.encode({**base, "iss": "https://idp.example"}, key),
        "empty claims": jwt.encode({}, key),
        "older than the password": jwt.encode({**base, "iat": 1000}, key),
        "unknown account": jwt.encode({**base, "sub": "ghost:login"}, key),
        "not a jwt": "a.b.c",
    }
    async with api.client() as http:
        for what, token in forged.items():
            answer = await http.get(
                "/api/v1/account/admin", headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 401, what
            assert answer.json()["message"].startswith("invalid session: "), what
            assert token not in answer.text
