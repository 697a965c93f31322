"""What the API shows of repositories, clusters and tree nodes: never a credential."""

from __future__ import annotations

import base64
import json

import pytest

from tether.api import errors, resourceview
from tether.api.routes import clusters as cluster_routes, repositories as repo_routes
from tether.model import clusters
from tether.model.errors import InvalidInputError
from tether.model.resources import ResourceKey
from tether.services import clusters as cluster_service, repositories
from tether.services.apptree import TreeEntry

SECRET = "very-secret-credential-value"


def test_a_repository_view_holds_no_credential():
    fields = repo_routes.fields_of(
        {
            "repo": "https://git.example/x.git",
            "username": "bot",
            "password": SECRET,
            "sshPrivateKey": SECRET,
            "bearerToken": SECRET,
            "insecure": True,
            "connectionState": {"status": "Successful"},
        }
    )
    secret = repositories.secret_for(fields, "argocd", "repo-x")
    stored = repositories.StoredRepo(secret, fields)
    shown = repo_routes.view(stored)
    assert shown == {
        "repo": "https://git.example/x.git",
        "type": "git",
        "username": "bot",
        "insecure": True,
    }
    assert SECRET not in json.dumps(shown)
    assert base64.b64decode(secret["data"]["password"]).decode() == SECRET


def test_an_oci_helm_repository_keeps_its_oci_flags_through_the_api():
    fields = repo_routes.fields_of(
        {
            "repo": "registry.example/charts",
            "type": "helm",
            "password": SECRET,
            "enableOCI": True,
            "insecureOCIForceHttp": True,
        }
    )
    secret = repositories.secret_for(fields, "argocd", "repo-oci")
    shown = repo_routes.view(repositories.StoredRepo(secret, fields))
    assert shown == {
        "repo": "registry.example/charts",
        "type": "helm",
        "enableOCI": True,
        "insecureOCIForceHttp": True,
    }


@pytest.mark.parametrize("field", ["tlsClientCertKey", "githubAppPrivateKey", "proxy", "enableLfs"])
def test_a_repository_field_tether_does_not_read_is_refused_by_name(field: str):
    with pytest.raises(errors.ApiError) as raised:
        repo_routes.fields_of({"repo": "https://git.example/x.git", field: SECRET})
    assert field in raised.value.message
    assert SECRET not in raised.value.message


def test_a_cluster_view_holds_no_credential():
    fields = cluster_routes.fields_of(
        {
            "server": "https://c.example:6443/",
            "name": "c",
            "project": "team",
            "namespaces": ["a"],
            "config": {
                "bearerToken": SECRET,
                "tlsClientConfig": {"insecure": False},
            },
        }
    )
    secret = cluster_service.secret_from(
        fields, "argocd", labels={"env": "prod"}, annotations={}, exec_commands=()
    )
    stored = cluster_service.StoredCluster(
        clusters.from_secret(secret), secret, {k: v for k, v in fields.items() if v}
    )
    shown = cluster_routes.view(stored)
    assert shown == {
        "server": "https://c.example:6443",
        "name": "c",
        "config": {"tlsClientConfig": {"insecure": False}},
        "namespaces": ["a"],
        "clusterResources": False,
        "project": "team",
        "labels": {"env": "prod"},
    }
    assert SECRET not in json.dumps(shown)
    assert cluster_routes.rbac_object(stored.entry.server, stored.project) == (
        "team/https://c.example:6443"
    )


def test_a_cluster_plugin_command_nobody_allowed_is_refused():
    fields = cluster_routes.fields_of(
        {"server": "https://c.example", "config": {"execProviderConfig": {"command": "sh"}}}
    )
    with pytest.raises(InvalidInputError, match=r"execProviderConfig\.command"):
        cluster_service.secret_from(fields, "argocd", labels={}, annotations={}, exec_commands=())


def test_a_pod_node_carries_its_parent_health_images_and_info():
    owner_uid = "rs-uid"
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-1",
            "namespace": "ns",
            "uid": "pod-uid",
            "resourceVersion": "7",
            "creationTimestamp": "2026-12-07T10:00:00Z",
            "ownerReferences": [{"kind": "ReplicaSet", "name": "web", "uid": owner_uid}],
        },
        "spec": {"containers": [{"name": "c", "image": "img:1"}]},
        "status": {"phase": "Running", "containerStatuses": [{"name": "c", "ready": True}]},
    }
    parent = ResourceKey("apps", "ReplicaSet", "ns", "web")
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"uid": owner_uid}}
    node = resourceview.node(TreeEntry(ResourceKey.of(pod), pod, (parent,)), {parent: rs})
    assert node["uid"] == "pod-uid"
    assert node["parentRefs"] == [
        {
            "group": "apps",
            "version": "v1",
            "kind": "ReplicaSet",
            "namespace": "ns",
            "name": "web",
            "uid": owner_uid,
        }
    ]
    assert node["images"] == ["img:1"]
    assert {"name": "Containers", "value": "1/1"} in node["info"]
    assert node["resourceVersion"] == "7"
    assert "health" in node
