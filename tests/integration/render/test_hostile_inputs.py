"""Hostile input: every Application field that reaches a tool or a path, filled with attacks.

Each example renders one Application manifest through the real helm, kustomize, gojsonnet or a
plugin (``render_manifest``, the core of ``tether render``), with every argv recorded, and
checks that no user value reached a tool as a flag, no file outside the repository was read
(canaries), no credential leaked, nothing was written outside the work directory, and a failure
is a clean ``RenderFailed`` naming the attacked field.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import functools
import http.server
import json
import logging
import os
import pathlib
import re
import secrets
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tether import bootstrap, ports
from tether.adapters import _process
from tether.adapters.devcluster import tools
from tether.adapters.render.renderer import Renderer
from tether.core.sources import rendering
from tether.services import manifests
from tether.settings import Settings

from .conftest import write

pytestmark = [pytest.mark.tools]

PASSWORD = f"pw-{secrets.token_hex(6)}"
"""The password in every example's repoURL; it may appear in no output, message or log."""

ATTACKS = (
    # Flags a tool would obey, whole or glued to a value.
    "--post-renderer=/bin/sh", "--post-renderer", "--output-dir={written}", "-o{written}",
    "-f/etc/passwd", "-f", "--values={abs_canary}", "--set-file=a={abs_canary}", "--set=a=b",
    "--kubeconfig=/etc/passwd", "--repo=http://u:{password}@127.0.0.1:1/", "-", "--", "--help",
    "--load-restrictor=LoadRestrictionsNone", "--enable-helm", "--enable-exec",
    "--helm-command=/bin/sh", "--end-of-options",
    # What tools split: key=value pairs, lists.
    "a=b", "x=1,y=2", "a,b", ",", "=", "a\\,b=c", "{{a,b}}",
    # What no argv can carry.
    "\x00", "a\x00b", "x\x00--post-renderer=/bin/sh",
    # Ways out of the repository.
    "..", "../..", "../outside", "../outside/secret.yaml", "../../canary.yaml",
    "../../../../../../../../etc/passwd", "charts/../../outside/secret.yaml", "./../outside",
    "..\\..\\outside\\secret.yaml", "%2e%2e/outside/secret.yaml", "%2e%2e%2f%2e%2e%2fcanary.yaml",
    "/etc/passwd", "/", "{abs_canary}", "{abs_dir}", "{outside}", "{outside}/secret.yaml",
    "{parent_canary}", "file://{abs_canary}", "file:///etc/passwd",
    # Remote references, with credentials and to the metadata service.
    "http://u:{password}@127.0.0.1:1/values.yaml", "https://u:{password}@127.0.0.1:1/x",
    "http://169.254.169.254/latest/meta-data/", "git::http://u:{password}@127.0.0.1:1/x",
    "$ARGOCD_APP_SOURCE_REPO_URL", "${{ARGOCD_APP_SOURCE_REPO_URL}}",
    # Numbers no field expects.
    "99999999999999999999999999", "-1", "1e309", "9" * 5000, "NaN",
    # Control characters, newlines, shell syntax.
    "\n--post-renderer=/bin/sh", "a\nb: c", "\r", "\t", "\x1b[31m", "\x7f", "\u202e",
    "$(touch {written})", "`touch {written}`", "; touch {written}", "*", "**", "[", "a" * 3000,
)  # fmt: skip

HOSTILE_CHARS = "-=,./\\\x00\n\r\t%:@$`{}[]*?'\" ab0"
"""The alphabet of generated mixtures: every character some tool or path gives a meaning."""

OWN_FLAGS = {
    # tether's own words in a tool's argv (builder ``word``s and settings), and why they are there.
    "--include-crds": "helm template renders CRDs unless the source skips them",
    "--skip-crds": "helm.skipCrds",
    "--skip-tests": "helm.skipTests",
    "--skip-schema-validation": "helm.skipSchemaValidation",
    "--untar": "helm pull unpacks the chart into the cache",
    "--skip-refresh": "helm dependency build with no repository index to read",
    "--fail-on-repo-update-fail": "a repository index helm cannot read fails the pull",
    "--plain-http": "a registry's repository Secret says insecureOCIForceHttp",
    "--insecure-skip-tls-verify": "a registry's repository Secret says insecure",
    "--short": "helm version --short",
    "--": "the end of options before positionals",
}

VALUE_FLAGS = frozenset(
    # Flags whose value part may be tenant input, as one ``--flag=value`` word.
    {"--namespace", "--values", "--kube-version", "--api-versions", "--helm-kube-version",
     "--helm-api-versions", "--repo", "--untardir", "--version"}
)  # fmt: skip

TOOL_NAMES = ("helm template", "helm pull", "kustomize build", "jsonnet", "plugin echo")
"""How a tool's own failure names the tool."""


@dataclasses.dataclass(frozen=True)
class World:
    """A repository beside canaries, a work directory, and the renderers under test."""

    base: pathlib.Path
    """The temp parent: ``repo/``, ``outside/``, ``canary.yaml`` and ``work/``."""
    repo: pathlib.Path
    work: pathlib.Path
    """The render cache and scratch: the only place a render may write."""
    watched: tuple[pathlib.Path, ...]
    """Trees no render may change: the parent (minus ``work``) and the absolute canary's."""
    canaries: tuple[str, ...]
    attacks: tuple[str, ...]
    fill: dict[str, str]
    """What the catalogues' placeholders stand for in this world."""
    chart_repo: str
    """A Helm repository on loopback serving ``web``; its URL carries the password."""
    renderer: ports.Renderer
    plugin_renderer: ports.Renderer


def _canary_tree(root: pathlib.Path, canary: str) -> None:
    """Files that would leak ``canary`` into a render if any tool read them."""
    cm = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: leaked}}\ndata: {{token: {canary}}}\n"
    write(
        root,
        {
            "secret.yaml": f"token: {canary}\n",
            "kustomization.yaml": "resources: [cm.yaml]\n",
            "cm.yaml": cm,
            "component/kustomization.yaml": (
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
                "resources: [cm.yaml]\n"
            ),
            "component/cm.yaml": cm,
            "patch.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: k}}\ndata: {{t: {canary}}}\n",
            "vendor.libsonnet": f"{{ token: '{canary}' }}\n",
        },
    )


REPO = {
    "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "charts/web/values.yaml": "greeting: hi\n",
    "charts/web/values-prod.yaml": "greeting: prod\n",
    "charts/web/files/cfg.txt": "inside\n",
    "charts/web/templates/cm.yaml": """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {{ .Release.Name }}-values
        data:
          values: {{ toJson .Values | quote }}
          file: {{ .Files.Get (.Values.file | default "files/cfg.txt" | toString) | quote }}
    """,
    "kustomize/base/kustomization.yaml": "resources: [deploy.yaml, cm.yaml]\n",
    "kustomize/base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: k}\n",
    "kustomize/base/deploy.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: 1
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: web, image: nginx:1.0}]}
    """,
    "kustomize/components/extra/kustomization.yaml": (
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [extra.yaml]\n"
    ),
    "kustomize/components/extra/extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: e}\n",
    "kustomize/patches/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: k}\ndata: {p: '1'}\n",
    "plain/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\n",
    "plain/sub/deep.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\n",
    "plain/README.md": "not a manifest\n",
    "jsonnet/main.jsonnet": """
        local vendor = import 'vendor.libsonnet';
        function(greeting='hi') {
          apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'jsonnet' },
          data: { greeting: std.toString(greeting), vendor: std.toString(vendor),
                  env: std.toString(std.extVar('env')) },
        }
    """,
    "jsonnet/vendor/vendor.libsonnet": "{ token: 'inside' }\n",
    "plugin/template.echo": "x\n",
}

ECHO_PLUGIN = """
import json, os
data = {k: v for k, v in os.environ.items() if k.startswith(("PARAM_", "ARGOCD_"))}
print(json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "echo"},
                  "data": data}))
"""
"""A plugin that prints everything tenant input reaches: its parameters and the build env."""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("hostile")
    abs_dir = tmp_path_factory.mktemp("hostile-abs")
    canaries = tuple(f"canary-{secrets.token_hex(8)}" for _ in range(3))
    _canary_tree(base / "outside", canaries[0])
    (base / "canary.yaml").write_text(f"token: {canaries[1]}\n")
    _canary_tree(abs_dir, canaries[2])
    repo, work = base / "repo", base / "work"
    write(repo, REPO)
    work.mkdir()
    with _chart_server(base / "chart-repo", repo / "charts" / "web") as chart_url:
        chart_repo = chart_url.replace("http://", f"http://u:{PASSWORD}@")
        fill = {
            "written": str(base / "outside" / "written"),
            "abs_canary": str(abs_dir / "secret.yaml"),
            "abs_dir": str(abs_dir),
            "outside": str(base / "outside"),
            "parent_canary": str(base / "canary.yaml"),
            "password": PASSWORD,
        }
        script = base / "echo.py"
        script.write_text(ECHO_PLUGIN)
        echo = rendering.PluginSpec(name="echo", generate=(sys.executable, str(script)))
        settings_ = Settings(
            cache_dir=str(work), allow_local_repos=True, remote_hosts=("127.0.0.1",)
        )
        yield World(
            base=base,
            repo=repo,
            work=work,
            watched=(base, abs_dir),
            canaries=(*canaries, *_passwd_lines()),
            attacks=tuple(a.format(**fill) for a in ATTACKS),
            fill=fill,
            chart_repo=chart_repo,
            renderer=bootstrap.renderer(settings_),
            plugin_renderer=Renderer(
                rendering.RenderSettings(
                    cache_dir=str(work / "plugin"),
                    remote=bootstrap.remote_policy(settings_),
                ),
                tools.ToolLocator(),
                plugins=(echo,),
            ),
        )


def _passwd_lines() -> tuple[str, ...]:
    """/etc/passwd's first line, a canary every machine has."""
    try:
        first = pathlib.Path("/etc/passwd").read_text().splitlines()[0]
    except (OSError, IndexError):
        return ()
    return (first,) if len(first) > 8 else ()


@contextlib.contextmanager
def _chart_server(root: pathlib.Path, chart: pathlib.Path) -> Iterator[str]:
    """The chart packaged into a Helm repository served on loopback (port 0)."""
    root.mkdir()
    helm = tools.path_of("helm")
    subprocess.run([helm, "package", str(chart), "-d", str(root)], check=True, capture_output=True)
    subprocess.run([helm, "repo", "index", str(root)], check=True, capture_output=True)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# -- One example: render, record, check --------------------------------------------------------


@dataclasses.dataclass
class Recorded:
    argvs: list[list[str]] = dataclasses.field(default_factory=list)
    logs: list[str] = dataclasses.field(default_factory=list)


class _Logs(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self._into = into

    def emit(self, record: logging.LogRecord) -> None:
        self._into.append(record.getMessage())


@contextlib.contextmanager
def recording() -> Iterator[Recorded]:
    """Every argv a render spawns (through the real ``_process``) and every log line."""
    seen = Recorded()
    real_run, real_run_sync = _process.run, _process.run_sync

    async def run(argv: Any, **kwargs: Any) -> _process.Completed:
        seen.argvs.append(list(argv))
        return await real_run(argv, **kwargs)

    def run_sync(argv: Any, **kwargs: Any) -> _process.Completed:
        seen.argvs.append(list(argv))
        return real_run_sync(argv, **kwargs)

    handler = _Logs(seen.logs)
    logging.getLogger().addHandler(handler)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_process, "run", run)
            patch.setattr(_process, "run_sync", run_sync)
            yield seen
    finally:
        logging.getLogger().removeHandler(handler)


def _snapshot(world: World) -> dict[str, tuple[bool, int, int]]:
    """Every entry of the watched trees (but ``work``) with its type, size and mtime."""
    found: dict[str, tuple[bool, int, int]] = {}
    for top in world.watched:
        for current, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if os.path.join(current, d) != str(world.work)]
            for name in (*dirs, *files):
                path = os.path.join(current, name)
                info = os.lstat(path)
                found[path] = (name in dirs, info.st_size, info.st_mtime_ns)
    return found


def _forms(secret: str) -> list[str]:
    """``secret`` as a sweep looks for it: raw, JSON-escaped and base64 at each alignment."""
    forms = [secret, json.dumps(secret)[1:-1]]
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + secret.encode()).decode()
        forms.append(encoded[4 if pad else 0 : -4])  # the part no neighbouring byte changes
    return [form for form in forms if len(form) >= 8]


def _strip_indices(text: str) -> str:
    return re.sub(r"\[\d+\]", "", text)


@dataclasses.dataclass(frozen=True)
class Attack:
    """One Application under attack: its source and the fields (paths, no indices) attacked."""

    source: dict[str, Any]
    fields: tuple[str, ...]
    values: tuple[str, ...]
    plugin: bool = False


def check_example(world: World, attack: Attack) -> manifests.RenderResult:
    """Render ``attack`` and check every property; returns the result for further checks."""
    manifest = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "hostile", "namespace": "tether"},
        "spec": {
            "project": "default",
            "destination": {"namespace": "apps"},
            "source": attack.source,
        },
    }
    renderer = world.plugin_renderer if attack.plugin else world.renderer
    before = _snapshot(world)
    with recording() as seen:
        result = asyncio.run(
            manifests.render_manifest(json.dumps(manifest), renderer, repo_root=str(world.repo))
        )
    assert isinstance(result, manifests.Rendered | manifests.RenderFailed)
    _no_user_value_is_a_flag(seen.argvs, attack.values)
    if isinstance(result, manifests.Rendered):
        output = json.dumps(list(result.manifests))
    else:
        output = result.message
        _a_failure_names_its_field(result, attack.fields)
    everything = "\n".join([output, *seen.logs])
    for canary in world.canaries:
        for form in _forms(canary):
            assert form not in everything, f"a file outside the repository was read: {output}"
    # A tenant who types the password into a rendered field (a name prefix) gets it back in
    # their own objects; messages and logs stay clean of it all the same.
    typed_in = any(PASSWORD in value for value in attack.values)
    swept = "\n".join(seen.logs if typed_in and isinstance(result, manifests.Rendered) else [])
    swept = swept if typed_in else everything
    for form in _forms(PASSWORD):
        assert form not in swept, f"the repoURL's password leaked: {output}"
    assert str(world.work) not in everything, "a message shows tether's scratch paths"
    assert _snapshot(world) == before, "a render wrote outside its work directory"
    return result


def _no_user_value_is_a_flag(argvs: list[list[str]], values: tuple[str, ...]) -> None:
    dashed = {value for value in values if value.startswith("-")}
    for argv in argvs:
        for word in argv[1:]:
            if not word.startswith("-"):
                continue
            name, equals, _ = word.partition("=")
            if equals and name in VALUE_FLAGS:
                continue
            assert word in OWN_FLAGS, f"{word!r} reached {argv[0]} as a flag: {argv}"
            assert word not in dashed, f"a user value is a flag of {argv[0]}: {argv}"


def _a_failure_names_its_field(result: manifests.RenderFailed, fields: tuple[str, ...]) -> None:
    message = _strip_indices(result.message)
    if result.invalid_input:
        # Bad input we refuse names the field; bad tool output names the tool it came from.
        named = [*fields, *(f"{tool} output" for tool in TOOL_NAMES)]
        assert any(name in message for name in named), (
            f"the failure names none of {fields}: {result.message}"
        )
    else:
        assert any(tool in message for tool in TOOL_NAMES), f"unclean failure: {result.message}"


# -- Strategies: fields by attacks --------------------------------------------------------------


def attacks_from(world: World) -> st.SearchStrategy[str]:
    """One attack: from the catalogue, two glued together, or a generated mixture."""
    catalogue = st.sampled_from(world.attacks)
    return st.one_of(
        catalogue,
        catalogue,
        st.tuples(catalogue, catalogue).map("".join),
        st.text(alphabet=HOSTILE_CHARS, min_size=1, max_size=12),
    )


Draw = Callable[..., Any]
"""Draws one attack (recorded as a user value); given a strategy, draws from that instead."""

Setter = Callable[[dict[str, Any], Draw], None]
"""Puts attacks into a source, creating the sections on the way."""


def _put(*keys: str, build: Callable[[Draw], Any] = lambda draw: draw()) -> Setter:
    def put(source: dict[str, Any], draw: Draw) -> None:
        node = source
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = build(draw)

    return put


Field = tuple[str, Setter]
"""A field as a failure must name it (indices dropped), and how an attack gets into it."""

COMMON: tuple[Field, ...] = (
    ("spec.source.path", _put("path")),
    ("spec.source.targetRevision", _put("targetRevision")),
    ("spec.source.repoURL", _put("repoURL")),
)

HELM = "spec.source.helm"
HELM_FIELDS: tuple[Field, ...] = (
    *COMMON,
    (f"{HELM}.releaseName", _put("helm", "releaseName")),
    (f"{HELM}.valueFiles", _put("helm", "valueFiles", build=lambda d: [d(), "values-prod.yaml"])),
    (f"{HELM}.values", _put("helm", "values")),
    (f"{HELM}.values", _put("helm", "values", build=lambda d: f"greeting: {json.dumps(d())}\n")),
    (f"{HELM}.valuesObject", _put("helm", "valuesObject", build=lambda d: {d(): d()})),
    (f"{HELM}.valuesObject", _put("helm", "valuesObject", build=lambda d: {"file": d()})),
    (f"{HELM}.parameters", _put("helm", "parameters", build=lambda d: [{"name": d(), "value": d()}])),
    (
        f"{HELM}.parameters",
        _put(
            "helm", "parameters",
            build=lambda d: [{"name": d(st.sampled_from(["file", "greeting", "a.b[1]"])),
                              "value": d(), "forceString": d(st.booleans())}],
        ),
    ),
    (
        f"{HELM}.fileParameters",
        _put("helm", "fileParameters", build=lambda d: [{"name": d(), "path": "files/cfg.txt"}]),
    ),
    (f"{HELM}.fileParameters", _put("helm", "fileParameters", build=lambda d: [{"name": "x", "path": d()}])),
    (f"{HELM}.namespace", _put("helm", "namespace")),
    (f"{HELM}.kubeVersion", _put("helm", "kubeVersion")),
    (f"{HELM}.apiVersions", _put("helm", "apiVersions", build=lambda d: [d()])),
)  # fmt: skip

KUSTOMIZE = "spec.source.kustomize"
KUSTOMIZE_FIELDS: tuple[Field, ...] = (
    *COMMON,
    (f"{KUSTOMIZE}.namePrefix", _put("kustomize", "namePrefix")),
    (f"{KUSTOMIZE}.nameSuffix", _put("kustomize", "nameSuffix")),
    (f"{KUSTOMIZE}.namespace", _put("kustomize", "namespace")),
    (f"{KUSTOMIZE}.images", _put("kustomize", "images", build=lambda d: [d()])),
    (f"{KUSTOMIZE}.images", _put("kustomize", "images", build=lambda d: [f"nginx={d()}"])),
    (f"{KUSTOMIZE}.replicas", _put("kustomize", "replicas", build=lambda d: [{"name": d(), "count": 2}])),
    (f"{KUSTOMIZE}.replicas", _put("kustomize", "replicas", build=lambda d: [{"name": "web", "count": d()}])),
    (
        f"{KUSTOMIZE}.replicas",
        _put(
            "kustomize", "replicas",
            build=lambda d: [{"name": "web", "count": d(st.sampled_from([-1, 2**31, 2**63, 10**30]))}],
        ),
    ),
    (f"{KUSTOMIZE}.commonLabels", _put("kustomize", "commonLabels", build=lambda d: {d(): d()})),
    (
        f"{KUSTOMIZE}.commonAnnotations",
        lambda source, d: source["kustomize"].update(
            commonAnnotations={"a": d()}, commonAnnotationsEnvsubst=True
        ),
    ),
    (f"{KUSTOMIZE}.patches", _put("kustomize", "patches", build=lambda d: [{"path": d()}])),
    (
        f"{KUSTOMIZE}.patches",
        _put("kustomize", "patches", build=lambda d: [{"patch": d(), "target": {"kind": "ConfigMap"}}]),
    ),
    (
        f"{KUSTOMIZE}.patches",
        _put(
            "kustomize", "patches",
            build=lambda d: [{"path": "../patches/cm.yaml", "target": {"kind": d(), "name": d()}}],
        ),
    ),
    (f"{KUSTOMIZE}.components", _put("kustomize", "components", build=lambda d: [d()])),
    (f"{KUSTOMIZE}.kubeVersion", _put("kustomize", "kubeVersion")),
    (f"{KUSTOMIZE}.apiVersions", _put("kustomize", "apiVersions", build=lambda d: [d()])),
)  # fmt: skip

DIRECTORY = "spec.source.directory"
DIRECTORY_FIELDS: tuple[Field, ...] = (
    *COMMON,
    (f"{DIRECTORY}.include", _put("directory", "include")),
    (f"{DIRECTORY}.exclude", _put("directory", "exclude")),
)

JSONNET = f"{DIRECTORY}.jsonnet"
JSONNET_CODE = (
    # Jsonnet code (``code: true``) reading what it must not.
    "import '{outside}/vendor.libsonnet'", "importstr '../outside/secret.yaml'",
    "importstr '{abs_canary}'", "importbin '/etc/passwd'", "importstr '../../canary.yaml'",
    "import 'vendor.libsonnet'", "std.native('x')", "error 'x'",
)  # fmt: skip


def _jsonnet_var(name: Callable[[Draw], str]) -> Callable[[Draw], dict[str, Any]]:
    return lambda d: {"name": name(d), "value": d(), "code": d(st.booleans())}


JSONNET_FIELDS: tuple[Field, ...] = (
    ("spec.source.path", _put("path")),
    (f"{JSONNET}.tlas", _put("directory", "jsonnet", "tlas", build=lambda d: [_jsonnet_var(lambda _: "greeting")(d)])),
    (f"{JSONNET}.tlas", _put("directory", "jsonnet", "tlas", build=lambda d: [_jsonnet_var(lambda d: d())(d)])),
    (
        f"{JSONNET}.extVars",
        _put("directory", "jsonnet", "extVars", build=lambda d: [_jsonnet_var(lambda _: "env")(d)]),
    ),
    (
        f"{JSONNET}.extVars",
        _put(
            "directory", "jsonnet", "extVars",
            build=lambda d: [{"name": "env", "value": "dev"}, _jsonnet_var(lambda d: d())(d)],
        ),
    ),
    (f"{JSONNET}.libs", _put("directory", "jsonnet", "libs", build=lambda d: [d(), "jsonnet/vendor"])),
)  # fmt: skip

PLUGIN = "spec.source.plugin"
PLUGIN_FIELDS: tuple[Field, ...] = (
    *COMMON,
    (f"{PLUGIN}.name", _put("plugin", "name")),
    (f"{PLUGIN}.env", _put("plugin", "env", build=lambda d: [{"name": d(), "value": "x"}])),
    (f"{PLUGIN}.env", _put("plugin", "env", build=lambda d: [{"name": "X", "value": d()}])),
    (f"{PLUGIN}.parameters", _put("plugin", "parameters", build=lambda d: [{"name": d(), "string": d()}])),
    (f"{PLUGIN}.parameters", _put("plugin", "parameters", build=lambda d: [{"name": "a", "array": [d(), d()]}])),
    (f"{PLUGIN}.parameters", _put("plugin", "parameters", build=lambda d: [{"name": "m", "map": {d(): d()}}])),
)  # fmt: skip

CHART_FIELDS: tuple[Field, ...] = (
    ("spec.source.chart", _put("chart")),
    ("spec.source.targetRevision", _put("targetRevision")),
    ("spec.source.repoURL", _put("repoURL")),
    (f"{HELM}.releaseName", _put("helm", "releaseName")),
    (f"{HELM}.valueFiles", _put("helm", "valueFiles", build=lambda d: [d()])),
    (f"{HELM}.fileParameters", _put("helm", "fileParameters", build=lambda d: [{"name": "x", "path": d()}])),
)  # fmt: skip


@st.composite
def under_attack(
    draw: st.DrawFn,
    world: World,
    base: dict[str, Any],
    fields: tuple[Field, ...],
    *,
    code: bool = False,
    plugin: bool = False,
) -> Attack:
    """``base`` with one to three of ``fields`` attacked."""
    source = json.loads(json.dumps(base))
    chosen = draw(
        st.lists(st.sampled_from(range(len(fields))), min_size=1, max_size=3, unique=True)
    )
    values: list[str] = []
    pool = attacks_from(world)
    if code:
        snippets = tuple(s.format(**world.fill) for s in JSONNET_CODE)
        pool = st.one_of(pool, st.sampled_from(snippets))

    def one(strategy: st.SearchStrategy[Any] | None = None) -> Any:
        value = draw(strategy if strategy is not None else pool)
        if isinstance(value, str):
            values.append(value)
        return value

    for index in chosen:
        fields[index][1](source, one)
    names = tuple(fields[index][0] for index in chosen)
    return Attack(source, names, tuple(values), plugin)


def repo_url() -> str:
    return f"http://u:{PASSWORD}@127.0.0.1:1/repo.git"


HOSTILE = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# -- The tests ---------------------------------------------------------------------------------


def _bases(world: World) -> dict[str, dict[str, Any]]:
    return {
        "helm": {"repoURL": repo_url(), "path": "charts/web", "helm": {}},
        "kustomize": {"repoURL": repo_url(), "path": "kustomize/base", "kustomize": {}},
        "directory": {"repoURL": repo_url(), "path": "plain", "directory": {"recurse": True}},
        "jsonnet": {
            "repoURL": repo_url(),
            "path": "jsonnet",
            "directory": {
                "jsonnet": {
                    "extVars": [{"name": "env", "value": "dev"}],
                    "libs": ["jsonnet/vendor"],
                }
            },
        },
        "plugin": {"repoURL": repo_url(), "path": "plugin", "plugin": {"name": "echo"}},
        "chart": {
            "repoURL": world.chart_repo,
            "chart": "web",
            "targetRevision": "0.1.0",
            "helm": {},
        },
    }


@pytest.mark.timeout(120)
@pytest.mark.parametrize("app", ["helm", "kustomize", "directory", "jsonnet", "plugin", "chart"])
def test_every_application_renders_when_nobody_attacks_it(world: World, app: str) -> None:
    attack = Attack(_bases(world)[app], (), (), plugin=app == "plugin")
    result = check_example(world, attack)
    assert isinstance(result, manifests.Rendered), getattr(result, "message", "")
    assert result.manifests


@pytest.mark.timeout(180)
@HOSTILE
@given(data=st.data())
def test_hostile_helm_options_never_become_flags_files_or_leaks(
    world: World, data: st.DataObject
) -> None:
    check_example(world, data.draw(under_attack(world, _bases(world)["helm"], HELM_FIELDS)))


@pytest.mark.timeout(180)
@HOSTILE
@given(data=st.data())
def test_hostile_helm_repository_charts_never_become_flags_files_or_leaks(
    world: World, data: st.DataObject
) -> None:
    check_example(world, data.draw(under_attack(world, _bases(world)["chart"], CHART_FIELDS)))


@pytest.mark.timeout(180)
@HOSTILE
@given(data=st.data())
def test_hostile_kustomize_options_never_become_flags_files_or_leaks(
    world: World, data: st.DataObject
) -> None:
    check_example(
        world, data.draw(under_attack(world, _bases(world)["kustomize"], KUSTOMIZE_FIELDS))
    )


@pytest.mark.timeout(180)
@HOSTILE
@given(data=st.data())
def test_hostile_directory_options_never_read_outside_the_repository(
    world: World, data: st.DataObject
) -> None:
    check_example(
        world, data.draw(under_attack(world, _bases(world)["directory"], DIRECTORY_FIELDS))
    )


@pytest.mark.timeout(180)
@HOSTILE
@given(data=st.data())
def test_hostile_jsonnet_variables_and_libraries_never_read_outside_the_repository(
    world: World, data: st.DataObject
) -> None:
    base = _bases(world)["jsonnet"]
    check_example(world, data.draw(under_attack(world, base, JSONNET_FIELDS, code=True)))


@pytest.mark.timeout(180)
@HOSTILE
@given(data=st.data())
def test_hostile_plugin_options_never_become_flags_files_or_leaks(
    world: World, data: st.DataObject
) -> None:
    base = _bases(world)["plugin"]
    check_example(world, data.draw(under_attack(world, base, PLUGIN_FIELDS, plugin=True)))
