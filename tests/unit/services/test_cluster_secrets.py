"""What ``tether cluster add`` writes: Argo CD's names and a Secret the controller accepts."""

from __future__ import annotations

import base64

from tether.model import clusters as model
from tether.services import clusters


def test_the_secret_add_writes_is_one_the_controller_reads_back_without_showing_the_token() -> None:
    pem = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    secret = clusters.cluster_secret(
        "edge",
        "https://10.0.0.7:6443",
        "t0ken",
        ca_data=base64.b64encode(pem).decode(),
        insecure=False,
        namespace="ops",
    )
    entry = model.from_secret(secret)
    assert (entry.name, entry.server, entry.secret) == (
        "edge",
        "https://10.0.0.7:6443",
        f"ops/{secret['metadata']['name']}",
    )
    assert entry.credentials is not None and entry.credentials.bearer_token == "t0ken"
    assert "t0ken" not in repr(entry)


def test_secret_names_are_stable_per_server_and_safe_as_object_names() -> None:
    name = clusters.secret_name("https://API.Example.com:6443/")
    assert name == clusters.secret_name("https://API.Example.com:6443/")
    assert name.startswith("cluster-api-example-com-")
    assert name != clusters.secret_name("https://api.example.com:7443")


def test_the_manager_account_uses_argo_cds_names() -> None:
    names = [(o["kind"], o["metadata"]["name"]) for o in clusters.manager_objects()]
    assert names == [
        ("ServiceAccount", "argocd-manager"),
        ("ClusterRole", "argocd-manager-role"),
        ("ClusterRoleBinding", "argocd-manager-role-binding"),
    ]
