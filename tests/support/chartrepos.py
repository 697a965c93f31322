"""Real Helm chart repositories on loopback, with basic auth: an OCI registry and an HTTP one.

The OCI registry is the CNCF distribution registry, built from its Go module like the control
plane (``tools.path_of("registry")``), with an htpasswd file. The HTTP repository is what a Helm
chart repository is by definition: an ``index.yaml`` made by the real ``helm repo index`` and
the packaged charts, served as static files, behind basic auth.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import http.server
import json
import pathlib
import secrets
import textwrap
import threading
import time
from collections.abc import Mapping
from typing import Any

import bcrypt
import httpx2

from tether.adapters import _process
from tether.adapters.devcluster import tools

from .gitservers import free_port, wait_for_port

USER = "chartreader"


def helm_env(work: pathlib.Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """helm's state under ``work``, never the user's home."""
    return _process.base_env(
        {
            "HOME": str(work),
            **{k: str(work / k) for k in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME")},
            **(extra or {}),
        }
    )


def package(
    work: pathlib.Path,
    out: pathlib.Path,
    name: str,
    version: str,
    *,
    dependencies: str = "",
) -> pathlib.Path:
    """``helm package`` a chart whose one ConfigMap says its name and version."""
    chart = work / f"src-{name}-{version}" / name
    (chart / "templates").mkdir(parents=True, exist_ok=True)
    (chart / "Chart.yaml").write_text(
        f"apiVersion: v2\nname: {name}\nversion: {version}\n" + textwrap.dedent(dependencies)
    )
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}-"
        + name
        + "}\ndata: {chart: {{ .Chart.Name | quote }}, version: {{ .Chart.Version | quote }}}\n"
    )
    out.mkdir(parents=True, exist_ok=True)
    _process.run_sync(
        [tools.path_of("helm"), "package", str(chart), "-d", str(out)], env=helm_env(work)
    )
    return out / f"{name}-{version}.tgz"


# -- An OCI registry -----------------------------------------------------------------------------


@dataclasses.dataclass
class OciRegistry:
    """A distribution registry on 127.0.0.1 requiring ``USER`` and ``password``."""

    host: str
    """``127.0.0.1:port``."""
    password: str
    work: pathlib.Path
    daemon: _process.Daemon

    def push(self, chart: pathlib.Path, path: str = "charts") -> None:
        """``helm push`` a packaged chart to ``oci://host/path`` as the registry's user."""
        config = self.work / "push-registry.json"
        pair = base64.b64encode(f"{USER}:{self.password}".encode()).decode()
        config.write_text(json.dumps({"auths": {self.host: {"auth": pair}}}))
        config.chmod(0o600)
        env = helm_env(self.work, {"HELM_REGISTRY_CONFIG": str(config)})
        argv = [tools.path_of("helm"), "push", str(chart), f"oci://{self.host}/{path}"]
        _process.run_sync([*argv, "--plain-http"], env=env)

    def stop(self) -> None:
        self.daemon.stop()


def start_registry(work: pathlib.Path, *, auth: bool = True, timeout: float = 30.0) -> OciRegistry:
    """Start the registry with an htpasswd file of one user and a fresh password (or open)."""
    work.mkdir(parents=True, exist_ok=True)
    password = "oci-" + secrets.token_urlsafe(12)
    htpasswd = work / "htpasswd"
    htpasswd.write_bytes(
        USER.encode() + b":" + bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)) + b"\n"
    )
    port = free_port()
    config = work / "config.yml"
    config.write_text(
        json.dumps(
            {
                "version": 0.1,
                "log": {"level": "warn", "accesslog": {"disabled": True}},
                "storage": {"filesystem": {"rootdirectory": str(work / "data")}},
                "http": {"addr": f"127.0.0.1:{port}", "secret": secrets.token_hex(16)},
                **(
                    {"auth": {"htpasswd": {"realm": "tether-test", "path": str(htpasswd)}}}
                    if auth
                    else {}
                ),
            }
        )
    )
    # Its telemetry stays off: nothing may leave loopback.
    env = _process.base_env({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "none"})
    daemon = _process.spawn(
        "registry",
        [tools.path_of("registry"), "serve", str(config)],
        log_path=str(work / "registry.log"),
        env=env,
        die_with_parent=True,
    )
    wait_for_port(port, daemon, timeout)
    host = f"127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"http://{host}/v2/", timeout=2).status_code == (401 if auth else 200):
                return OciRegistry(host, password, work, daemon)
        except httpx2.HTTPError:
            pass
        time.sleep(0.05)
    daemon.stop()
    raise RuntimeError("the registry did not answer /v2/")


# -- An HTTP chart repository ----------------------------------------------------------------


class _BasicAuthFiles(http.server.SimpleHTTPRequestHandler):
    expected = ""

    def do_GET(self) -> None:
        if self.headers.get("Authorization", "") != self.expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="charts"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclasses.dataclass
class HttpChartRepo:
    """Static chart files behind basic auth for ``USER`` and ``password``."""

    url: str
    password: str
    served: pathlib.Path
    work: pathlib.Path
    server: http.server.ThreadingHTTPServer
    thread: threading.Thread

    def add(self, name: str, version: str, *, dependencies: str = "", base_url: str = "") -> None:
        """Package a chart into the repository and index it again.

        ``base_url`` makes the index's chart URLs absolute (e.g. another host name).
        """
        package(self.work, self.served, name, version, dependencies=dependencies)
        argv = [tools.path_of("helm"), "repo", "index", str(self.served)]
        if base_url:
            argv += ["--url", base_url]
        _process.run_sync(argv, env=helm_env(self.work))

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def start_http_repo(work: pathlib.Path) -> HttpChartRepo:
    """An empty chart repository on 127.0.0.1 (add charts with ``add``)."""
    served = work / "served"
    served.mkdir(parents=True, exist_ok=True)
    password = "http-" + secrets.token_urlsafe(12)
    expected = "Basic " + base64.b64encode(f"{USER}:{password}".encode()).decode()
    handler = type("Handler", (_BasicAuthFiles,), {"expected": expected})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(served))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    return HttpChartRepo(url, password, served, work, server, thread)


def repository_secret(
    name: str,
    url: str,
    *,
    password: str = "",
    project: str = "",
    kind: str = "repository",
    namespace: str = "tether",
    extra: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An Argo CD repository Secret of ``type: helm`` for ``USER``."""
    data = {"type": "helm", "url": url, **(extra or {})}
    if password:
        data.update({"username": USER, "password": password})
    if project:
        data["project"] = project
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"argocd.argoproj.io/secret-type": kind},
        },
        "stringData": data,
    }
