"""The SSO settings as read from a real control plane: secret references and their rules."""

from __future__ import annotations

import logging

import pytest

from tether import bootstrap
from tether.core.auth.oidcconfig import OidcConfigError
from tether.services.auth.oidcconfig import SsoConfigReader
from tether.settings import Settings

OIDC = "name: Dex\nissuer: https://dex.example.test\nclientID: tether\nclientSecret: {ref}\n"


def configmap(namespace: str, ref: str, extra: str = "") -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "argocd-cm", "namespace": namespace},
        "data": {"url": "https://cd.example.test", "oidc.config": OIDC.format(ref=ref) + extra},
    }


def secret(namespace: str, name: str, data: dict[str, str], labelled: bool) -> dict[str, object]:
    labels = {"app.kubernetes.io/part-of": "argocd"} if labelled else {}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "stringData": data,
    }


@pytest.fixture
async def rt(kube_cluster, namespace, tmp_path):
    settings = Settings(
        app_namespaces=(namespace,), cache_dir=str(tmp_path / "cache"), freeze_gc=False
    )
    async with await bootstrap.runtime(
        settings, kubeconfig=kube_cluster.kubeconfig, start_cache=False
    ) as runtime:
        yield runtime


async def test_client_secret_references_resolve_from_argocd_secret_and_labelled_secrets(
    rt, namespace, caplog
):
    await rt.cluster.create(configmap(namespace, "$dex:client.secret", "userInfoPath: /x\n"))
    await rt.cluster.create(
        secret(namespace, "argocd-secret", {"server.secretkey": "k", "other": "v"}, False)
    )
    await rt.cluster.create(secret(namespace, "dex", {"client.secret": "from-dex"}, True))
    with caplog.at_level(logging.WARNING):
        config = await SsoConfigReader(rt.cluster, namespace, bootstrap.now).current()
    assert config.client_secret == "from-dex"
    assert config.secret_key == b"k"
    assert "from-dex" not in repr(config) and "b'k'" not in repr(config)
    assert "userInfoPath is not supported" in caplog.text
    assert "from-dex" not in caplog.text

    await rt.cluster.patch(
        "v1",
        "ConfigMap",
        "argocd-cm",
        namespace,
        patch={"data": {"oidc.config": OIDC.format(ref="$other")}},
    )
    config = await SsoConfigReader(rt.cluster, namespace, bootstrap.now).current()
    assert config.client_secret == "v"


async def test_a_reference_to_an_unlabelled_secret_or_a_missing_key_is_refused(rt, namespace):
    await rt.cluster.create(configmap(namespace, "$plain:client.secret"))
    await rt.cluster.create(secret(namespace, "plain", {"client.secret": "hidden"}, False))
    with pytest.raises(OidcConfigError, match="not labelled") as refused:
        await SsoConfigReader(rt.cluster, namespace, bootstrap.now).current()
    assert "hidden" not in str(refused.value)

    await rt.cluster.patch(
        "v1",
        "ConfigMap",
        "argocd-cm",
        namespace,
        patch={"data": {"oidc.config": OIDC.format(ref="$nothing.here")}},
    )
    with pytest.raises(OidcConfigError, match=r"has no key 'nothing\.here'"):
        await SsoConfigReader(rt.cluster, namespace, bootstrap.now).current()
