import pytest

from tether.core.auth import oidcconfig
from tether.core.auth.oidcconfig import OidcConfigError, SecretRef

FULL = """
name: Dex
issuer: https://dex.example.test/dex
clientID: tether
clientSecret: $oidc.dex.clientSecret
cliClientID: tether-cli
requestedScopes: [openid, profile, email, groups, federated:id]
enablePKCEAuthentication: true
rootCA: |
  -----BEGIN CERTIFICATE-----
logoutURL: https://dex.example.test/logout
"""


def test_a_full_oidc_config_is_read_with_its_secret_reference_unresolved():
    settings = oidcconfig.parse({"url": "https://cd.example.test", "oidc.config": FULL})
    assert settings.url == "https://cd.example.test"
    assert settings.redirect_uri == "https://cd.example.test/auth/callback"
    oidc = settings.oidc
    assert oidc is not None
    assert oidc.name == "Dex"
    assert oidc.issuer == "https://dex.example.test/dex"
    assert oidc.client_secret == SecretRef("argocd-secret", "oidc.dex.clientSecret")
    assert oidc.requested_scopes[-1] == "federated:id"
    assert oidc.root_ca.startswith("-----BEGIN")
    assert oidc.logout_url == "https://dex.example.test/logout"
    assert not oidc.insecure_skip_verify
    assert settings.warnings == ()


def test_the_audiences_default_to_the_client_ids_unless_listed():
    oidc = oidcconfig.parse({"oidc.config": FULL}).oidc
    assert oidc is not None
    assert oidc.audiences == ("tether", "tether-cli")
    listed = oidcconfig.parse({"oidc.config": FULL + "allowedAudiences: [other]\n"}).oidc
    assert listed is not None
    assert listed.audiences == ("other",)


def test_the_default_scopes_are_openid_profile_email_groups():
    oidc = oidcconfig.parse({"oidc.config": "issuer: https://i\nclientID: c\n"}).oidc
    assert oidc is not None
    assert oidc.requested_scopes == ("openid", "profile", "email", "groups")
    assert oidc.client_secret == ""


@pytest.mark.parametrize(
    ("value", "ref"),
    [
        ("$key", SecretRef("argocd-secret", "key")),
        ("$my-secret:client.secret", SecretRef("my-secret", "client.secret")),
        ("plain", None),
        ("$", None),
    ],
)
def test_secret_references_name_a_secret_and_key(value, ref):
    assert oidcconfig.secret_ref(value) == ref


def test_unknown_keys_are_named_in_a_warning_and_unsupported_ones_say_why():
    text = "issuer: https://i\nclientID: c\nclientSecreet: x\nbogus: 1\n"
    text += "enableUserInfoGroups: true\n"
    settings = oidcconfig.parse({"oidc.config": text})
    assert settings.warnings[0].endswith("unknown keys ignored: bogus, clientSecreet")
    assert "enableUserInfoGroups is not supported" in settings.warnings[1]
    assert not any(w == "x" for w in settings.warnings)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("clientID: c\n", "issuer is required"),
        ("issuer: https://i\n", "clientID is required"),
        ("- a list\n", "expected a mapping"),
        ("issuer: [\n", "not YAML"),
        ("issuer: https://i\nclientID: c\nrequestedScopes: [profile]\n", "must include openid"),
        ("issuer: https://i\nclientID: c\nallowedAudiences: tether\n", "allowedAudiences"),
        ("issuer: https://i\nclientID: c\nenablePKCEAuthentication: maybe\n", "PKCE"),
    ],
)
def test_an_unusable_oidc_config_is_refused_naming_the_key(text, named):
    with pytest.raises(OidcConfigError, match=named):
        oidcconfig.parse({"oidc.config": text})


def test_a_secret_value_is_never_quoted_in_an_error():
    text = "issuer: https://i\nclientID: c\nclientSecret: [s3cr3t-value]\n"
    with pytest.raises(OidcConfigError) as err:
        oidcconfig.parse({"oidc.config": text})
    assert "s3cr3t" not in str(err.value)


def test_tls_verification_is_skipped_only_when_asked():
    text = "issuer: https://i\nclientID: c\n"
    on = oidcconfig.parse({"oidc.config": text, "oidc.tls.insecure.skip.verify": "true"})
    off = oidcconfig.parse({"oidc.config": text})
    assert on.oidc is not None and on.oidc.insecure_skip_verify
    assert off.oidc is not None and not off.oidc.insecure_skip_verify


def test_no_oidc_config_means_no_sso():
    assert oidcconfig.parse({"url": "https://cd"}).oidc is None


@pytest.mark.parametrize(
    ("data", "disabled"),
    [
        ({}, False),
        ({"admin.enabled": "false"}, True),
        ({"admin.enabled": "false", "accounts.ci": "apiKey"}, True),
        ({"admin.enabled": "false", "accounts.alice": "apiKey, login"}, False),
        (
            {
                "admin.enabled": "false",
                "accounts.alice": "login",
                "accounts.alice.enabled": "false",
            },
            True,
        ),
    ],
)
def test_user_logins_are_disabled_when_no_local_account_may_log_in(data, disabled):
    assert oidcconfig.user_logins_disabled(data) is disabled


def test_logout_goes_to_the_logout_url_with_token_and_return_filled_in():
    text = "issuer: https://i\nclientID: c\n"
    text += "logoutURL: https://i/logout?id_token_hint={{token}}&post={{logoutRedirectURL}}\n"
    settings = oidcconfig.parse({"url": "https://cd.example.test/argo", "oidc.config": text})
    assert oidcconfig.logout_location(settings, "a.b+c") == (
        "https://i/logout?id_token_hint=a.b%2Bc&post=https%3A%2F%2Fcd.example.test%2Fargo"
    )
    minimal = "issuer: https://i\nclientID: c\n"
    plain = oidcconfig.parse({"url": "https://cd", "oidc.config": minimal})
    assert oidcconfig.logout_location(plain, "t") == "https://cd"
    assert oidcconfig.logout_location(oidcconfig.parse({}), "t") == "/"
