"""The server's tokens: signature, algorithm, times, and what the account or project says."""

from __future__ import annotations

import datetime
from typing import Any

import jwt
import pytest

from tether.core.auth import accounts, tokens
from tether.model.project import parse_project

KEY = b"k" * 32
NOW = datetime.datetime(2026, 12, 7, 10, 0, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)


def test_a_login_token_carries_argo_cds_claims() -> None:
    token = tokens.issue(KEY, "alice:login", "id-1", NOW, HOUR)
    claims = jwt.decode(
        token,
        KEY,
        algorithms=["HS256"],
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    assert claims["iss"] == "argocd"
    assert claims["sub"] == "alice:login"
    assert claims["jti"] == "id-1"
    assert claims["nbf"] == int(NOW.timestamp())
    assert claims["exp"] == int(NOW.timestamp()) + 3600


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: tokens.issue(b"x" * 32, "a:login", "i", NOW, HOUR), "signature is invalid"),
        (
            lambda: jwt.encode(
                {"iss": "argocd", "sub": "a", "jti": "i", "iat": 1}, "", algorithm="none"
            ),
            "signature",
        ),
        (
            lambda: jwt.encode({"iss": "other", "sub": "a", "jti": "i", "iat": 1}, KEY),
            "unexpected issuer",
        ),
        (lambda: jwt.encode({"iss": "argocd", "sub": "a", "iat": 1}, KEY), "no jti claim"),
        (
            lambda: jwt.encode({"iss": "argocd", "sub": "", "jti": "i", "iat": 1}, KEY),
            "empty subject",
        ),
        (lambda: tokens.issue(KEY, "a:login", "i", NOW - 2 * HOUR, HOUR), "expired"),
        (lambda: tokens.issue(KEY, "a:login", "i", NOW + HOUR, HOUR), "not valid yet"),
        (lambda: "not.a.jwt", "signature"),
    ],
)
def test_a_token_that_proves_nothing_is_refused_with_a_safe_reason(make, reason: str) -> None:
    with pytest.raises(tokens.TokenError, match=reason):
        tokens.verify(KEY, make(), NOW)


def account(**kw: Any) -> accounts.Account:
    base: dict[str, Any] = {
        "name": "alice",
        "enabled": True,
        "capabilities": frozenset({"login", "apiKey"}),
    }
    base.update(kw)
    return accounts.Account(**base)


def claims(sub: str = "alice:login", jti: str = "i", iat: datetime.datetime = NOW) -> tokens.Claims:
    return tokens.Claims(sub, jti, iat.timestamp(), None)


def test_an_account_token_needs_the_account_enabled_with_the_capability() -> None:
    assert tokens.account_caller(claims(), account(), "login").subject == "alice"
    with pytest.raises(tokens.TokenError, match="does not exist"):
        tokens.account_caller(claims(), None, "login")
    with pytest.raises(tokens.TokenError, match="disabled"):
        tokens.account_caller(claims(), account(enabled=False), "login")
    with pytest.raises(tokens.TokenError, match="lacks the apiKey"):
        tokens.account_caller(claims(), account(capabilities=frozenset({"login"})), "apiKey")


def test_a_password_change_kills_older_tokens_even_within_the_same_second() -> None:
    changed = NOW + datetime.timedelta(microseconds=500_000)
    acc = account(password_mtime=changed)
    with pytest.raises(tokens.TokenError, match="password has changed"):
        tokens.account_caller(claims(iat=NOW), acc, "login")
    later = claims(iat=NOW + datetime.timedelta(microseconds=700_000))
    assert tokens.account_caller(later, acc, "login").kind == "login"


def test_an_api_key_must_still_be_listed_on_its_account() -> None:
    listed = account(tokens=(accounts.TokenEntry("k1", 1),))
    assert tokens.account_caller(claims("alice:apiKey", "k1"), listed, "apiKey").kind == "apiKey"
    with pytest.raises(tokens.TokenError, match="revoked"):
        tokens.account_caller(claims("alice:apiKey", "k2"), listed, "apiKey")


def test_a_project_token_must_be_listed_under_its_role() -> None:
    project = parse_project(
        {
            "metadata": {"name": "p"},
            "spec": {"roles": [{"name": "ci"}]},
            "status": {"jwtTokensByRole": {"ci": {"items": [{"iat": 1, "id": "t1"}]}}},
        }
    )
    assert tokens.project_caller(claims("proj:p:ci", "t1"), project).subject == "proj:p:ci"
    with pytest.raises(tokens.TokenError, match="revoked"):
        tokens.project_caller(claims("proj:p:ci", "t2"), project)
    with pytest.raises(tokens.TokenError, match="role ops does not exist"):
        tokens.project_caller(claims("proj:p:ops", "t1"), project)
    with pytest.raises(tokens.TokenError, match="project does not exist"):
        tokens.project_caller(claims("proj:q:ci", "t1"), project)


@pytest.mark.parametrize(
    ("sub", "name", "kind"),
    [
        ("alice:login", "alice", "login"),
        ("ci:apiKey", "ci", "apiKey"),
        ("admin", "admin", "login"),
        ("proj:p:r", "proj:p:r", "project"),
    ],
)
def test_the_subject_names_the_account_and_the_kind_of_token(
    sub: str, name: str, kind: str
) -> None:
    assert tokens.split_subject(sub) == (name, kind)


def test_accounts_are_read_from_argo_cds_keys() -> None:
    found = accounts.accounts_from(
        {
            "accounts.ci": "apiKey",
            "accounts.ci.enabled": "false",
            "admin.enabled": "true",
            "accounts.admin": "apiKey",
            "accounts.proj:p:r": "login",
        },
        {"admin.password": "$2b$hash", "accounts.ci.tokens": '[{"id":"a","iat":1,"exp":0}]'},
    )
    assert set(found) == {"admin", "ci"}
    assert found["admin"].can("login") and not found["admin"].can("apiKey")
    assert not found["ci"].enabled
    assert found["ci"].tokens == (accounts.TokenEntry("a", 1, 0),)


def test_account_settings_read_durations_and_patterns() -> None:
    settings = accounts.AuthSettings.from_configmap(
        {"users.session.duration": "1h30m", "users.anonymous.enabled": "true"}
    )
    assert settings.session_duration == datetime.timedelta(minutes=90)
    assert settings.anonymous_enabled
    assert settings.password_allowed("12345678") and not settings.password_allowed("short")
    with pytest.raises(Exception, match=r"users\.session\.duration"):
        accounts.AuthSettings.from_configmap({"users.session.duration": "soon"})


def test_a_token_listed_only_in_the_roles_older_jwt_tokens_is_honoured() -> None:
    project = parse_project(
        {
            "metadata": {"name": "p"},
            "spec": {"roles": [{"name": "ci", "jwtTokens": [{"iat": 1700000000}]}]},
        }
    )
    legacy = tokens.Claims("proj:p:ci", "some-id", 1700000000.0, None)
    assert tokens.project_caller(legacy, project).kind == "project"
    with pytest.raises(tokens.TokenError, match="revoked"):
        tokens.project_caller(tokens.Claims("proj:p:ci", "x", 1700000001.0, None), project)


def test_the_revoked_list_drops_expired_ids_and_stays_bounded() -> None:
    listed = {"old": 90.0, "live": 200.0}
    assert tokens.revoked_with(listed, "new", 300.0, now=100.0) == {"live": 200.0, "new": 300.0}
    full = {f"id{n}": 1000.0 + n for n in range(tokens.REVOKED_CAPACITY)}
    kept = tokens.revoked_with(full, "new", 5.0e9, now=100.0)
    assert len(kept) == tokens.REVOKED_CAPACITY
    assert "new" in kept and "id0" not in kept
