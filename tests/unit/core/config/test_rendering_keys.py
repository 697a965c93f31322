"""The rendering keys of Argo CD's ConfigMaps as the controller's configuration reads them."""

from __future__ import annotations

import pytest

from tether.core.config import system
from tether.core.sources.rendering import BuildOptions

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
CERT = "-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIUQ0Ew\n-----END CERTIFICATE-----\n"


def test_build_options_and_trust_come_from_their_three_configmaps():
    config = system.parse(
        {
            "argocd-cm": {
                "kustomize.buildOptions": "--enable-helm",
                "helm.valuesFileSchemes": "https",
            },
            "argocd-ssh-known-hosts-cm": {"ssh_known_hosts": f"git.example {KEY}\n"},
            "argocd-tls-certs-cm": {"git.example": CERT},
        }
    )
    assert config.build_options == BuildOptions(("--enable-helm",), ("https",))
    assert config.host_trust.known_hosts == f"git.example {KEY}\n"
    assert config.host_trust.ca_for("https://git.example/x.git") == CERT
    assert config.warnings == ()


def test_a_refused_kustomize_flag_refuses_the_change_naming_configmap_key_and_flag():
    with pytest.raises(
        system.ConfigError, match=r"kustomize\.buildOptions: --enable-exec is refused"
    ):
        system.parse({"argocd-cm": {"kustomize.buildOptions": "--enable-exec"}})


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("kustomize.buildOptions.v5.8.1", "tether runs one kustomize: set kustomize.buildOptions"),
        ("kustomize.path.v5.8.1", "tether runs the one kustomize it was built with"),
        ("kustomize.version.v4", "removed from Argo CD"),
        ("configManagementPlugins", "removed in Argo CD 2.8"),
    ],
)
def test_per_version_kustomize_keys_and_legacy_plugins_are_warned_about_by_name(key, reason):
    warnings = system.parse({"argocd-cm": {key: "x"}}).warnings
    assert len(warnings) == 1
    assert warnings[0].startswith(f"argocd-cm {key}: not supported by tether")
    assert reason in warnings[0]


def test_trust_configmap_keys_are_host_names_never_warned_about_as_unknown_keys():
    config = system.parse({"argocd-tls-certs-cm": {"a.example": CERT, "b.example": CERT}})
    assert config.warnings == ()
    assert sorted(config.host_trust.tls_certs) == ["a.example", "b.example"]
