"""Apps deploy to other clusters named by cluster Secrets: two real control planes at once."""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from lightkube import ApiError
from lightkube.resources.core_v1 import ConfigMap, Event, Secret

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(240)

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: NAME}\ndata: {where: NAME}\n"
LABEL_KEY = "argocd.argoproj.io/secret-type"
LABEL = {LABEL_KEY: "cluster"}


def cluster_secret(name: str, cluster_name: str, kubeconfig: Path) -> dict[str, Any]:
    """A cluster Secret from a kubeconfig's admin client certificate, as Argo CD stores one."""
    config = yaml.safe_load(kubeconfig.read_text())
    server = config["clusters"][0]["cluster"]
    user = config["users"][0]["user"]
    tls = {
        "caData": server["certificate-authority-data"],
        "certData": user["client-certificate-data"],
        "keyData": user["client-key-data"],
    }
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "labels": LABEL},
        "stringData": {
            "name": cluster_name,
            "server": server["server"],
            "config": json.dumps({"tlsClientConfig": tls}),
        },
    }


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def condition(kube: Any, ns: str, app: str, kind: str) -> str:
    conditions = tetherenv.app_status(kube, ns, app).get("conditions") or []
    return next((c["message"] for c in conditions if c["type"] == kind), "")


def config_map(kube: Any, name: str, namespace: str) -> dict[str, Any] | None:
    try:
        return tetherenv.get(kube, ConfigMap, name, namespace)
    except ApiError:
        return None


async def test_apps_deploy_each_to_its_own_cluster_and_a_removed_or_unreachable_cluster_changes_nothing(  # noqa: E501
    crds, full_namespace, kube_cluster, namespace, tmp_path, caplog
):
    caplog.set_level("DEBUG")
    control_ns, remote_ns = full_namespace, namespace
    files = {f"{n}/cm.yaml": CM.replace("NAME", n) for n in ("local", "remote", "fenced", "dark")}
    repo = tetherenv.serve_repo(tmp_path / "git", files)
    kube = tetherenv.client(crds.kubeconfig)
    remote = tetherenv.client(kube_cluster.kubeconfig)
    try:
        secret = cluster_secret("cluster-edge", "edge", kube_cluster.kubeconfig)
        tetherenv.create(
            kube, {**secret, "metadata": {**secret["metadata"], "namespace": control_ns}}
        )
        dark = cluster_secret("cluster-dark", "dark", kube_cluster.kubeconfig)
        dark["stringData"]["server"] = f"https://127.0.0.1:{closed_port()}"
        tetherenv.create(kube, {**dark, "metadata": {**dark["metadata"], "namespace": control_ns}})
        tetherenv.create(
            kube,
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "AppProject",
                "metadata": {"name": "local-only", "namespace": control_ns},
                "spec": {
                    "sourceRepos": ["*"],
                    "destinations": [{"name": "in-*", "namespace": "*"}],
                },
            },
        )
        auto = {"syncPolicy": {"automated": {"prune": True}}}
        apps = {
            "local": tetherenv.application(
                "local", control_ns, repo.url, "local", control_ns, **auto
            ),
            "remote": tetherenv.application(
                "remote", control_ns, repo.url, "remote", remote_ns, **auto
            ),
            "fenced": tetherenv.application(
                "fenced", control_ns, repo.url, "fenced", remote_ns, **auto
            ),
            "dark": tetherenv.application("dark", control_ns, repo.url, "dark", remote_ns, **auto),
        }
        apps["remote"]["spec"]["destination"] = {"name": "edge", "namespace": remote_ns}
        apps["fenced"]["spec"]["destination"] = {"name": "edge", "namespace": remote_ns}
        apps["fenced"]["spec"]["project"] = "local-only"
        apps["dark"]["spec"]["destination"] = {"name": "dark", "namespace": remote_ns}
        for app in apps.values():
            tetherenv.create(kube, app)
        async with tetherenv.running_controller(crds.kubeconfig, control_ns, tmp_path / "cache"):
            for name in ("local", "remote"):
                synced = functools.partial(tetherenv.synced_healthy, kube, control_ns, name)
                await tetherenv.eventually(synced, 90, f"{name} Synced on its own cluster")
            fenced = functools.partial(condition, kube, control_ns, "fenced", "InvalidSpecError")
            refusal = await tetherenv.eventually(fenced, 60, "the fenced app refused")
            unreachable = functools.partial(condition, kube, control_ns, "dark", "ComparisonError")
            dark_message = await tetherenv.eventually(unreachable, 60, "the dark cluster named")

            assert config_map(remote, "remote", remote_ns) is not None
            assert config_map(kube, "remote", remote_ns) is None  # nothing of it on the control
            assert config_map(remote, "local", control_ns) is None
            assert "destination cluster 'edge'" in refusal and "'local-only'" in refusal
            assert config_map(remote, "fenced", remote_ns) is None
            assert "cluster 'dark'" in dark_message and "cannot be reached" in dark_message
            assert config_map(remote, "dark", remote_ns) is None

            kube.delete(Secret, "cluster-edge", namespace=control_ns)
            gone = functools.partial(condition, kube, control_ns, "remote", "InvalidSpecError")
            message = await tetherenv.eventually(gone, 60, "the removed cluster named")
            await asyncio.sleep(4)  # a prune or a cascade would have happened by now
            assert "spec.destination.name 'edge' is no known cluster" in message
            assert config_map(remote, "remote", remote_ns) is not None
            assert tetherenv.synced_healthy(kube, control_ns, "local")

        # Cluster credentials never reach a status, an event, an error or a log line.
        key = yaml.safe_load(kube_cluster.kubeconfig.read_text())["users"][0]["user"]
        written = json.dumps(
            [tetherenv.get(kube, tetherenv.Application, n, control_ns) for n in apps]
        ) + json.dumps([e.to_dict() for e in kube.list(Event, namespace=control_ns)])
        written += caplog.text
        assert key["client-key-data"] not in written
        assert key["client-certificate-data"] not in written
    finally:
        repo.server.stop()
        kube.close()
        remote.close()


def merged_kubeconfig(path: Path, **contexts: Path) -> Path:
    """One kubeconfig holding each given kubeconfig's first context, renamed as the keyword."""
    merged: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": []}
    merged["contexts"] = []
    for name, source in contexts.items():
        config = yaml.safe_load(source.read_text())
        merged["clusters"].append({"name": name, "cluster": config["clusters"][0]["cluster"]})
        merged["users"].append({"name": name, "user": config["users"][0]["user"]})
        merged["contexts"].append({"name": name, "context": {"cluster": name, "user": name}})
    merged["current-context"] = next(iter(contexts))
    path.write_text(yaml.safe_dump(merged))
    return path


def added_token(kube: Any, namespace: str) -> str:
    """The bearer token in the one cluster Secret of ``namespace``."""
    [secret] = [
        s
        for s in kube.list(Secret, namespace=namespace)
        if (s.metadata.labels or {}).get(LABEL_KEY) == "cluster"
    ]
    return str(json.loads(base64.b64decode(secret.data["config"]))["bearerToken"])


def app_diff(kubeconfig: Path, namespace: str, name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable, "-m", "tether", "app", "diff", name, "--kubeconfig", str(kubeconfig),
            "-n", namespace, "--control-plane-namespace", namespace,
        ],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip


def tether_cluster(kubeconfig: Path, namespace: str, *args: str) -> str:
    done = subprocess.run(
        [
            sys.executable, "-m", "tether", "cluster", *args,
            "--kubeconfig", str(kubeconfig), "--control-plane-namespace", namespace,
        ],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


async def test_tether_cluster_add_gives_tether_an_account_an_app_then_deploys_with(
    crds, full_namespace, kube_cluster, namespace, tmp_path
):
    control_ns, remote_ns = full_namespace, namespace
    both = merged_kubeconfig(
        tmp_path / "both.yaml", control=crds.kubeconfig, edge=kube_cluster.kubeconfig
    )
    repo = tetherenv.serve_repo(tmp_path / "git", {"remote/cm.yaml": CM.replace("NAME", "added")})
    kube = tetherenv.client(crds.kubeconfig)
    remote = tetherenv.client(kube_cluster.kubeconfig)
    try:
        said = await asyncio.to_thread(tether_cluster, both, control_ns, "add", "edge")
        assert "cluster 'edge'" in said
        token = added_token(kube, control_ns)
        listed = await asyncio.to_thread(tether_cluster, both, control_ns, "list")
        assert "edge" in listed and "in-cluster" in listed
        shown = await asyncio.to_thread(tether_cluster, both, control_ns, "get", "edge")
        assert "bearer token" in shown
        assert token not in listed + shown + said, "a credential was printed"

        app = tetherenv.application("added", control_ns, repo.url, "remote", remote_ns)
        app["spec"]["destination"] = {"name": "edge", "namespace": remote_ns}
        app["spec"]["syncPolicy"] = {"automated": {}}
        tetherenv.create(kube, app)
        async with tetherenv.running_controller(crds.kubeconfig, control_ns, tmp_path / "cache"):
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, control_ns, "added"), 90, "Synced on edge"
            )
            assert config_map(remote, "added", remote_ns) is not None
            # The CLI compares against the app's own cluster too: nothing differs there.
            diff = await asyncio.to_thread(app_diff, both, control_ns, "added")
            assert diff.returncode == 0, diff.stdout + diff.stderr

            removed = await asyncio.to_thread(tether_cluster, both, control_ns, "rm", "edge")
            assert "stays in the cluster" in removed
            await tetherenv.eventually(
                lambda: condition(kube, control_ns, "added", "InvalidSpecError"),
                60,
                "the app refused once its cluster is gone",
            )
            assert config_map(remote, "added", remote_ns) is not None, "deleted on removal"
    finally:
        repo.server.stop()
        kube.close()
        remote.close()


PLUGIN = """#!{python}
import base64, json, os, sys
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
if os.environ.get("REGION") != "eu" or info["spec"]["interactive"]:
    sys.exit("unexpected environment")
print(json.dumps({{
    "apiVersion": "client.authentication.k8s.io/v1",
    "kind": "ExecCredential",
    "status": {{
        "clientCertificateData": base64.b64decode({cert!r}).decode(),
        "clientKeyData": base64.b64decode({key!r}).decode(),
    }},
}}))
"""


async def test_a_credential_plugin_an_administrator_allows_signs_tether_in_to_a_cluster(
    crds, kube, full_namespace, kube_cluster, namespace, tmp_path
):
    control_ns, remote_ns = full_namespace, namespace
    config = yaml.safe_load(kube_cluster.kubeconfig.read_text())
    user = config["users"][0]["user"]
    plugin = tmp_path / "get-credential"
    plugin.write_text(
        PLUGIN.format(
            python=sys.executable, cert=user["client-certificate-data"], key=user["client-key-data"]
        )
    )
    plugin.chmod(0o755)
    secret = cluster_secret("cluster-plugged", "plugged", kube_cluster.kubeconfig)
    tls = {"caData": config["clusters"][0]["cluster"]["certificate-authority-data"]}
    exec_config = {"command": str(plugin), "env": [{"name": "REGION", "value": "eu"}]}
    secret["stringData"]["config"] = json.dumps(
        {"tlsClientConfig": tls, "execProviderConfig": exec_config}
    )
    tetherenv.create(kube, {**secret, "metadata": {**secret["metadata"], "namespace": control_ns}})
    repo = tetherenv.serve_repo(tmp_path / "git", {"remote/cm.yaml": CM.replace("NAME", "plugged")})
    remote = tetherenv.client(kube_cluster.kubeconfig)
    try:
        app = tetherenv.application("plugged", control_ns, repo.url, "remote", remote_ns)
        app["spec"]["destination"] = {"name": "plugged", "namespace": remote_ns}
        app["spec"]["syncPolicy"] = {"automated": {}}
        tetherenv.create(kube, app)
        # Not listed: the Secret is skipped, and its app says its cluster is unknown.
        async with tetherenv.running_controller(crds.kubeconfig, control_ns, tmp_path / "c1"):
            await tetherenv.eventually(
                lambda: condition(kube, control_ns, "plugged", "InvalidSpecError"),
                60,
                "refused while the plugin is not allowed",
            )
        assert config_map(remote, "plugged", remote_ns) is None
        allowed = (str(plugin),)
        async with tetherenv.running_controller(
            crds.kubeconfig, control_ns, tmp_path / "c2", cluster_exec_commands=allowed
        ):
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, control_ns, "plugged"), 90, "Synced"
            )
        assert config_map(remote, "plugged", remote_ns) is not None
    finally:
        repo.server.stop()
        remote.close()
