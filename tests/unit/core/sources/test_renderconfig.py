"""argocd-cm's build options and the trust ConfigMaps, as core/sources/renderconfig reads them."""

from __future__ import annotations

import pytest

from tether.core.sources import renderconfig
from tether.core.sources.rendering import BuildOptions
from tether.model.errors import InvalidInputError

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
KEY_BLOCK = "-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n"
CERT = "-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIUQ0Ew\n-----END CERTIFICATE-----"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("--enable-helm", ("--enable-helm",)),
        (
            "--enable-helm --load-restrictor LoadRestrictionsNone",
            ("--enable-helm", "--load-restrictor", "LoadRestrictionsNone"),
        ),
        (
            "--load-restrictor=LoadRestrictionsRootOnly",
            ("--load-restrictor", "LoadRestrictionsRootOnly"),
        ),
        ("  ", ()),
        ("'--enable-helm'", ("--enable-helm",)),
    ],
)
def test_kustomize_build_options_split_as_a_shell_would_into_checked_words(text, words):
    assert renderconfig.parse_kustomize_build_options(text) == words


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("--enable-alpha-plugins", "--enable-alpha-plugins is refused: lets a repository"),
        ("--enable-exec", "--enable-exec is refused"),
        ("--helm-command=/bin/sh", "--helm-command is refused: tether runs its own helm"),
        ("-o /tmp/out", "-o is refused"),
        ("--mount type=bind,src=/,dst=/host", "--mount is refused"),
        ("--reorder none", "--reorder is not a flag tether passes"),
        ("--load-restrictor", "--load-restrictor needs a value"),
        ("--load-restrictor Anything", "--load-restrictor takes one of"),
        ("--enable-helm=true", "--enable-helm takes no value"),
        ("/etc", "'/etc' is not a flag"),
        ("--enable-helm 'unbalanced", "unbalanced quotes"),
        ("--enable-helm; rm -rf /", "is not a flag"),
    ],
)
def test_a_kustomize_flag_tether_refuses_or_does_not_know_is_refused_naming_it(text, reason):
    with pytest.raises(ValueError, match=reason):
        renderconfig.parse_kustomize_build_options(text)


def test_a_refused_kustomize_flag_refuses_the_whole_key_naming_configmap_and_key():
    with pytest.raises(InvalidInputError) as caught:
        renderconfig.build_options({"kustomize.buildOptions": "--enable-helm --enable-exec"})
    assert str(caught.value).startswith("argocd-cm kustomize.buildOptions: --enable-exec")


def test_without_argocd_cm_keys_renders_get_tethers_defaults_nothing_remote():
    assert renderconfig.build_options({}) == (BuildOptions(), [])


def test_value_file_schemes_keep_what_helm_fetches_and_warn_about_the_rest():
    options, warnings = renderconfig.build_options(
        {"helm.valuesFileSchemes": " HTTPS, secrets+age-import , https, s3,, bad scheme"}
    )
    assert options.helm_value_url_schemes == ("https",)
    assert warnings == [
        "argocd-cm helm.valuesFileSchemes: 'secrets+age-import' has no helm getter in tether; "
        "ignored",
        "argocd-cm helm.valuesFileSchemes: 's3' has no helm getter in tether; ignored",
        "argocd-cm helm.valuesFileSchemes: 'bad scheme' is not a URL scheme; ignored",
    ]


def test_an_empty_value_file_schemes_key_allows_no_remote_value_file():
    assert renderconfig.build_options({"helm.valuesFileSchemes": ""})[0] == BuildOptions()


def test_known_hosts_keep_good_lines_markers_and_comments_out_and_name_bad_lines():
    text = (
        f"# comment\n\n[git.example]:2222 {KEY}\n@cert-authority *.example {KEY}\n"
        f"@bogus h {KEY}\nhost ssh-rsa not-base64!\njust-a-host\n"
    )
    kept, warnings = renderconfig.parse_known_hosts(text, "f")
    assert kept == f"[git.example]:2222 {KEY}\n@cert-authority *.example {KEY}\n"
    assert warnings == [
        "f line 5: unknown marker '@bogus'",
        "f line 6: not 'hosts keytype key'; ignored",
        "f line 7: not 'hosts keytype key'; ignored",
    ]


def test_tls_certs_are_looked_up_by_the_urls_host_without_its_port():
    certs, warnings = renderconfig.parse_tls_certs(
        {"Git.Example.com": f"junk\n{CERT}\n{KEY_BLOCK}"},
        "argocd-tls-certs-cm",
    )
    assert warnings == []
    trust = renderconfig.HostTrust(tls_certs=certs)
    assert trust.ca_for("https://git.example.com:8443/org/repo.git") == CERT + "\n"
    assert trust.ca_for("https://user:pw@GIT.example.com/x") == CERT + "\n"
    assert trust.ca_for("git.example.com/charts") == CERT + "\n"  # OCI, written without a scheme
    assert "PRIVATE KEY" not in trust.ca_for("https://git.example.com")
    assert trust.ca_for("https://other.example.com/x") == ""
    assert trust.ca_for("not a url at all [") == ""


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("git.example.com:8443", "the key is a host name without a port"),
        ("../etc", "not a host name"),
        ("-host", "not a host name"),
    ],
)
def test_a_tls_certs_key_that_is_no_host_name_is_warned_about(key, reason):
    certs, warnings = renderconfig.parse_tls_certs({key: CERT}, "argocd-tls-certs-cm")
    assert certs == {}
    assert warnings == [f"argocd-tls-certs-cm {key!r}: {reason}; ignored"]


def test_trust_from_absent_configmaps_trusts_nothing():
    assert renderconfig.host_trust(None, None) == (renderconfig.NO_TRUST, [])
