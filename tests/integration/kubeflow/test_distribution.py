"""The Kubeflow distribution on the corpus as a fork: init, then render every Application for real.

The fork is a copy of kubeflow/manifests @ 009c8808 with ``distributions/kubeflow`` added, as a
user's fork would be; renders use the real kustomize through the manifest service.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import difflib
import filecmp
import json
import pathlib
import shutil
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from tether import bootstrap
from tether.adapters import _process
from tether.adapters.devcluster import tools
from tether.cli import shell
from tether.cli.main import cli
from tether.core.diff import ignore
from tether.core.sources import distribution, kubeyaml
from tether.core.sync import options
from tether.model.application import parse_application
from tether.model.resources import ResourceKey
from tether.services import kubeflow

from .conftest import (
    FORK_URL,
    GOLDEN,
    KUBEFLOW,
    POINTING,
    PROJECT,
    make_fork,
)

KEEP = "Prune=false,Delete=false"
WEBHOOK_KINDS = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
ALWAYS_THERE = frozenset({"kube-system", "default"})
"""Namespaces every cluster has; nothing in the distribution needs to create them."""

pytestmark = [
    pytest.mark.tools,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not KUBEFLOW.is_dir(), reason="the Kubeflow corpus is not present"),
]


@pytest.fixture(scope="module")
def fork(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """The corpus as a fork, with the distribution initialised to point at it."""
    fork = make_fork(tmp_path_factory.mktemp("kubeflow"))
    kubeflow.init(fork / "distributions" / "kubeflow", POINTING)
    return fork


@pytest.fixture(scope="module")
def children(fork: pathlib.Path) -> dict[str, dict[str, Any]]:
    """Every child Application by name, as parsed from its file."""
    found = {}
    for path in sorted((fork / "distributions" / "kubeflow" / "apps").rglob("*.yaml")):
        for app in distribution.applications_in(path.read_text(), str(path)):
            found[app["metadata"]["name"]] = app
    return found


@pytest.fixture(scope="module")
def rendered(
    fork: pathlib.Path, children: dict[str, dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """Every child rendered through the manifest service from the fork's working tree."""
    service = bootstrap.manifest_service_for_directory(fork)

    async def render_all() -> dict[str, list[dict[str, Any]]]:
        results = await asyncio.gather(
            *(service.render_application(parse_application(a)) for a in children.values())
        )
        out = {}
        for name, result in zip(children, results, strict=True):
            assert not hasattr(result, "message"), result
            out[name] = list(getattr(result, "manifests", ()))
        return out

    return asyncio.run(render_all())


def kustomize_build(path: pathlib.Path) -> list[dict[str, Any]]:
    done = _process.run_sync([tools.path_of("kustomize"), "build", str(path)], timeout=120)
    return kubeyaml.parse_yaml(done.stdout, str(path))


def golden() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(GOLDEN.read_text())
    return data


def example_entries() -> list[str]:
    text = (KUBEFLOW / "example" / "kustomization.yaml").read_text()
    return [r.removeprefix("../") for r in yaml.safe_load(text)["resources"]]


def source_path(app: dict[str, Any]) -> str:
    return str(app["spec"]["source"]["path"])


def wave(app: dict[str, Any]) -> int:
    return int(app["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave", "0"))


def sync_options(app: dict[str, Any]) -> list[str]:
    return list(app["spec"].get("syncPolicy", {}).get("syncOptions", []))


# -- The shape of the distribution -------------------------------------------------------------


def test_there_is_one_child_per_example_entry_with_that_entrys_path(children):
    assert len(children) == 27
    assert sorted(source_path(a) for a in children.values()) == sorted(example_entries())


def test_every_child_points_at_the_fork_and_parses_as_an_application(children):
    for app in children.values():
        parsed = parse_application(app)
        assert parsed.spec.project == "kubeflow"
        assert app["spec"]["source"]["repoURL"] == FORK_URL
        assert app["spec"]["source"]["targetRevision"] == "main"


def test_every_child_syncs_server_side_automatically_and_retries_without_limit(children):
    for name, app in children.items():
        policy = app["spec"]["syncPolicy"]
        assert policy["automated"] == {"prune": True, "selfHeal": True}, name
        assert policy["retry"] == {
            "limit": -1,
            "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"},
        }, name
        assert "ServerSideApply=true" in policy["syncOptions"], name
        assert "Replace=true" not in policy["syncOptions"], name


def test_the_root_enables_every_child_and_renders_them_with_the_project(fork, children):
    root_file = fork / "distributions" / "kubeflow" / "root.yaml"
    root = distribution.applications_in(root_file.read_text(), "root.yaml")[0]
    assert root["spec"]["source"]["repoURL"] == FORK_URL
    assert root["spec"]["source"]["directory"] == {"recurse": True}

    service = bootstrap.manifest_service_for_directory(fork)
    result = asyncio.run(service.render_application(parse_application(root)))

    objects = list(getattr(result, "manifests", ()))
    kinds = collections.Counter(o["kind"] for o in objects)
    assert kinds == {"Application": 27, "AppProject": 1}
    assert {o["metadata"]["name"] for o in objects if o["kind"] == "Application"} == set(children)


# -- Rendering ---------------------------------------------------------------------------------


def test_the_children_render_the_examples_683_objects(rendered):
    total = sum(len(objects) for objects in rendered.values())

    assert total == golden()["example_total_objects"] == 683


def test_each_child_renders_what_kustomize_build_gives_for_its_path(children, rendered):
    entries = golden()["entries"]
    for name, app in children.items():
        expected = kustomize_build(KUBEFLOW / source_path(app))
        objects = rendered[name]
        assert len(objects) == len(expected) == entries[source_path(app)]["objects"], name
        assert [ResourceKey.of(o) for o in objects] == [ResourceKey.of(o) for o in expected], name


def test_init_reports_every_application_as_rendering(fork):
    checks = asyncio.run(
        kubeflow.check(
            fork / "distributions" / "kubeflow", fork, bootstrap.manifest_service_for_directory
        )
    )

    assert [c for c in checks if not c.ok or c.skipped] == []
    assert len(checks) == 28
    assert sum(c.objects for c in checks if c.path != "root.yaml") == 683


# -- Ordering, derived from what each child renders ---------------------------------------------


def test_custom_resources_come_in_a_later_wave_than_the_child_with_their_crd(children, rendered):
    crd_wave: dict[tuple[str, str], tuple[str, int]] = {}
    for name, objects in rendered.items():
        for obj in objects:
            if obj["kind"] == "CustomResourceDefinition":
                spec = obj["spec"]
                crd_wave[(spec["group"], spec["names"]["kind"])] = (name, wave(children[name]))
    for name, objects in rendered.items():
        for obj in objects:
            key = (obj["apiVersion"].split("/")[0], obj["kind"])
            owner = crd_wave.get(key)
            if owner is not None and owner[0] != name:
                assert owner[1] < wave(children[name]), f"{name}: {key} from {owner[0]}"


def test_every_namespace_exists_by_the_wave_that_uses_it(children, rendered):
    created: dict[str, int] = {}
    for name, objects in rendered.items():
        for obj in objects:
            if obj["kind"] == "Namespace":
                created[obj["metadata"]["name"]] = wave(children[name])
    assert len(created) == 7
    for name, objects in rendered.items():
        used = {o["metadata"].get("namespace") for o in objects} - {None, ""} - ALWAYS_THERE
        for namespace in used:
            assert created[namespace] <= wave(children[name]), f"{name} uses {namespace}"


WORKLOADS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"})


def test_pods_in_injected_namespaces_come_after_the_istio_sidecar_injector(children, rendered):
    injector = next(
        name
        for name, objects in rendered.items()
        for o in objects
        if o["kind"] == "MutatingWebhookConfiguration"
        and o["metadata"]["name"] == "istio-sidecar-injector"
    )
    injected = {
        o["metadata"]["name"]
        for objects in rendered.values()
        for o in objects
        if o["kind"] == "Namespace"
        and o["metadata"].get("labels", {}).get("istio-injection") == "enabled"
    }
    assert injected == {"kubeflow", "kubeflow-system", "knative-serving"}
    for name, objects in rendered.items():
        for obj in objects:
            if obj["kind"] in WORKLOADS and obj["metadata"].get("namespace") in injected:
                assert wave(children[injector]) < wave(children[name]), f"{name}: {obj['kind']}"


def test_create_namespace_is_set_exactly_where_the_child_does_not_create_its_destination(
    children, rendered
):
    for name, app in children.items():
        destination = app["spec"]["destination"].get("namespace")
        own = {o["metadata"]["name"] for o in rendered[name] if o["kind"] == "Namespace"}
        wanted = bool(destination) and destination not in own
        assert ("CreateNamespace=true" in sync_options(app)) is wanted, name


# -- Pruning, secrets and diffs -------------------------------------------------------------------


def test_namespaces_and_profiles_are_never_pruned_or_deleted(rendered):
    guarded = [o for objects in rendered.values() for o in objects]
    guarded = [o for o in guarded if o["kind"] in ("Namespace", "Profile")]
    assert len(guarded) == 8
    for obj in guarded:
        options = obj["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-options")
        assert options == KEEP, obj["metadata"]["name"]


def test_tethers_sync_engine_reads_every_option_and_keeps_guarded_objects(children, rendered):
    for name, app in children.items():
        parsed = options.parse(sync_options(app))
        assert not isinstance(parsed, options.OptionError), f"{name}: {parsed}"
        assert parsed.server_side_apply is True
    namespace = next(o for o in rendered["kubeflow-namespace"] if o["kind"] == "Namespace")
    annotated = options.of(namespace)
    assert isinstance(annotated, options.SyncOptions)
    guarded = options.resolve(options.SyncOptions(), annotated)
    assert guarded.prune is options.PruneMode.DISABLED
    assert guarded.delete is options.DeleteMode.DISABLED


def test_the_dex_password_hash_from_git_is_never_applied(children, rendered):
    secret = next(o for o in rendered["dex"] if o["metadata"]["name"] == "dex-passwords")
    upstream = (KUBEFLOW / "common" / "dex" / "base" / "dex-passwords.yaml").read_text()

    assert "$2y$" in upstream
    assert "data" not in secret and "stringData" not in secret
    ignored = [d for d in children["dex"]["spec"]["ignoreDifferences"] if d["kind"] == "Secret"]
    assert ignored == [
        {"kind": "Secret", "name": "dex-passwords", "namespace": "auth", "jsonPointers": ["/data"]}
    ]


def test_every_child_with_webhooks_ignores_their_ca_bundles(children, rendered):
    for name, objects in rendered.items():
        kinds = {o["kind"] for o in objects if o["kind"] in WEBHOOK_KINDS}
        rules = children[name]["spec"].get("ignoreDifferences", [])
        for kind in kinds:
            assert any(
                r["kind"] == kind
                and ".webhooks[]?.clientConfig.caBundle" in r.get("jqPathExpressions", [])
                and "name" not in r
                for r in rules
            ), f"{name}: {kind}"


def test_every_child_with_aggregated_cluster_roles_ignores_their_rules(children, rendered):
    for name, objects in rendered.items():
        if any(o["kind"] == "ClusterRole" and o.get("aggregationRule") for o in objects):
            rules = children[name]["spec"].get("ignoreDifferences", [])
            assert any(r["kind"] == "ClusterRole" for r in rules), name


def test_every_crd_with_a_conversion_webhook_or_injected_ca_ignores_that_ca(children, rendered):
    for name, objects in rendered.items():
        for obj in objects:
            if obj["kind"] != "CustomResourceDefinition":
                continue
            injected = "cert-manager.io/inject-ca-from" in obj["metadata"].get("annotations", {})
            if injected or obj["spec"].get("conversion", {}).get("webhook"):
                rules = children[name]["spec"]["ignoreDifferences"]
                assert any(
                    r["kind"] == "CustomResourceDefinition"
                    and r.get("name") == obj["metadata"]["name"]
                    for r in rules
                ), f"{name}: {obj['metadata']['name']}"


# -- The command ---------------------------------------------------------------------------------


@pytest.fixture
def fresh_fork(tmp_path: pathlib.Path) -> Iterator[pathlib.Path]:
    yield make_fork(tmp_path)


def test_the_command_points_the_fork_checks_renders_and_a_rerun_changes_nothing(
    fresh_fork, tmp_path, monkeypatch
):
    monkeypatch.chdir(fresh_fork)
    args = ["kubeflow", "init", "--repo", FORK_URL, "--revision", "v1.11"]

    first = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "FAIL" not in first.output
    assert first.output.count("  ok   ") == 28
    where = (fresh_fork / "distributions" / "kubeflow").resolve()
    # Absolute, as a new shell needs it: the venv's tether and the fork's directory.
    assert f"{shell.tether_command()} kubeflow bootstrap --dir {where}" in first.output

    snapshot = tmp_path / "snapshot"
    shutil.copytree(fresh_fork / "distributions" / "kubeflow", snapshot)
    second = CliRunner().invoke(cli, [*args, "--no-check"], catch_exceptions=False)
    assert second.exit_code == 0, second.output
    assert "nothing to change" in second.output
    comparison = filecmp.dircmp(snapshot, fresh_fork / "distributions" / "kubeflow")
    assert not _differences(comparison)


def _differences(comparison: filecmp.dircmp[str]) -> list[str]:
    found = [*comparison.left_only, *comparison.right_only, *comparison.diff_files]
    files = comparison.common_files
    _, mismatch, errors = filecmp.cmpfiles(comparison.left, comparison.right, files, shallow=False)
    found += mismatch + errors
    for sub in comparison.subdirs.values():
        found += _differences(sub)
    return found


def test_the_command_keeps_only_the_chosen_components_and_checks_only_those(fresh_fork):
    result = CliRunner().invoke(
        cli,
        [
            "kubeflow", "init", "--repo", FORK_URL,
            "--dir", str(fresh_fork / "distributions" / "kubeflow"),
            "--manifests-dir", str(fresh_fork),
            "--components", "cert-manager,istio,common,multi-tenancy,auth,pipelines",
        ],
        catch_exceptions=False,
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "13 of 27 child Applications enabled" in result.output
    assert "excluded: apps/kserve/kserve.yaml" in result.output
    assert result.output.count("  ok   ") == 14  # 13 children and the root
    root = (fresh_fork / "distributions" / "kubeflow" / "root.yaml").read_text()
    assert "exclude: '{" in root


def test_a_child_that_does_not_render_is_reported_by_name_with_the_reason(fresh_fork):
    katib = fresh_fork / "distributions" / "kubeflow" / "apps" / "katib" / "katib.yaml"
    katib.write_text(katib.read_text().replace("katib-with-kubeflow", "katib-with-typo"))

    result = CliRunner().invoke(
        cli,
        ["kubeflow", "init", "--repo", FORK_URL, "--dir", str(katib.parents[2]),
         "--manifests-dir", str(fresh_fork)],
        catch_exceptions=False,
    )  # fmt: skip

    assert result.exit_code == 1
    failing = [line for line in result.output.splitlines() if "FAIL" in line]
    assert len(failing) == 1
    assert "katib" in failing[0] and "katib-with-typo" in failing[0]


# -- What docs/kubeflow.md tells users to do ----------------------------------------------------


def doc_yaml_blocks() -> list[str]:
    text = (PROJECT / "docs" / "kubeflow.md").read_text()
    return [block.split("```", 1)[0] for block in text.split("```yaml\n")[1:]]


def render_one(fork: pathlib.Path, app: dict[str, Any]) -> list[dict[str, Any]]:
    service = bootstrap.manifest_service_for_directory(fork)
    result = asyncio.run(service.render_application(parse_application(app)))
    assert not hasattr(result, "message"), result
    return list(getattr(result, "manifests", ()))


def test_the_documented_microk8s_patch_moves_the_istio_cni_host_paths(fork, children):
    block = next(b for b in doc_yaml_blocks() if "istio-cni-node" in b)
    patches = yaml.safe_load(textwrap.dedent(block))["spec"]["source"]["kustomize"]["patches"]
    app = copy.deepcopy(children["istio"])
    app["spec"]["source"].setdefault("kustomize", {}).setdefault("patches", []).extend(patches)

    objects = render_one(fork, app)

    daemonset = next(o for o in objects if o["kind"] == "DaemonSet")
    paths = {
        v["name"]: v["hostPath"]["path"] for v in daemonset["spec"]["template"]["spec"]["volumes"]
    }
    assert paths["cni-bin-dir"] == "/var/snap/microk8s/current/opt/cni/bin"
    assert paths["cni-net-dir"] == "/var/snap/microk8s/current/args/cni-network"


@pytest.mark.parametrize(
    ("child", "path"),
    [
        ("oauth2-proxy", "common/oauth2-proxy/overlays/m2m-dex-and-kind"),
        ("oauth2-proxy", "common/oauth2-proxy/overlays/m2m-dex-and-eks"),
        ("istio", "common/istio/istio-install/overlays/gke"),
    ],
)
def test_the_documented_per_cluster_overlays_render_in_place_of_the_default(
    fork, children, child, path
):
    app = copy.deepcopy(children[child])
    app["spec"]["source"]["path"] = path

    assert len(render_one(fork, app)) == len(kustomize_build(KUBEFLOW / path))


CHART_CHILD = """\
# A chart from a Helm repository, added by the user: init must leave it alone.
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: extra-chart
  namespace: tether
spec:
  project: kubeflow
  source:
    repoURL: https://charts.example/stable
    chart: extra
    targetRevision: 1.2.3
  destination:
    server: https://kubernetes.default.svc
    namespace: extra
"""


def test_a_users_chart_child_is_left_alone_and_skipped_by_the_check(fresh_fork):
    directory = fresh_fork / "distributions" / "kubeflow"
    (directory / "apps" / "extra").mkdir()
    (directory / "apps" / "extra" / "chart.yaml").write_text(CHART_CHILD)

    result = kubeflow.init(directory, POINTING, ["extra", "istio-crds"])
    checks = asyncio.run(
        kubeflow.check(directory, fresh_fork, bootstrap.manifest_service_for_directory)
    )

    assert (directory / "apps" / "extra" / "chart.yaml").read_text() == CHART_CHILD
    assert "apps/extra/chart.yaml" not in {c.path for c in result.changed}
    assert len(result.children) - len(result.excluded) == 2
    by_name = {c.application: c for c in checks}
    assert set(by_name) == {"kubeflow", "istio-crds", "extra-chart"}
    assert by_name["extra-chart"].skipped == "source https://charts.example/stable is not the fork"
    assert by_name["istio-crds"].objects == 14
    assert by_name["kubeflow"].ok and by_name["kubeflow"].objects == 3  # 2 children, 1 project


def test_pointing_the_children_at_upstream_keeps_their_pinned_revisions(fresh_fork):
    directory = fresh_fork / "distributions" / "kubeflow"
    upstream = distribution.UPSTREAM_MANIFESTS_REPOS[0]
    pointing = distribution.Pointing(FORK_URL, "main", upstream, None)

    kubeflow.init(directory, pointing)

    dex = distribution.applications_in((directory / "apps/auth/dex.yaml").read_text(), "dex")[0]
    root = distribution.read_root((directory / "root.yaml").read_text())
    assert dex["spec"]["source"]["repoURL"] == upstream
    assert dex["spec"]["source"]["targetRevision"] == golden()["revision"]
    assert (root.repo, root.revision, root.manifests_repo) == (FORK_URL, "main", upstream)


def test_a_repoint_changes_exactly_the_repository_and_revision_lines(fresh_fork):
    directory = fresh_fork / "distributions" / "kubeflow"
    before = {p: p.read_text() for p in sorted(directory.rglob("*.yaml"))}

    kubeflow.init(directory, POINTING)

    allowed = (
        "repoURL: ",
        "targetRevision: ",
        "annotations:",
        distribution.MANIFESTS_REPO_ANNOTATION,
    )
    changed_files = 0
    for path, text in before.items():
        diff = [
            line
            for line in difflib.unified_diff(text.splitlines(), path.read_text().splitlines(), n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]
        changed_files += bool(diff)
        for line in diff:
            assert line[1:].strip().startswith(allowed), f"{path.name}: {line}"
    assert changed_files == 28  # the root and 27 children; the AppProject is untouched


def test_two_enabled_files_for_one_application_are_reported_on_the_root(fresh_fork):
    directory = fresh_fork / "distributions" / "kubeflow"
    kubeflow.init(directory, POINTING, ["istio-crds"])
    shutil.copy(directory / "apps/istio/istio-crds.yaml", directory / "apps/istio/copy.yaml")
    kubeflow.init(directory, POINTING, ["istio-crds"])  # the copy is not excluded by name

    checks = asyncio.run(
        kubeflow.check(directory, fresh_fork, bootstrap.manifest_service_for_directory)
    )

    root = next(c for c in checks if c.path == "root.yaml")
    assert root.problem == "several enabled files define the Application(s) istio-crds"


# -- The ignore rules hide exactly what controllers write --------------------------------------


CA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t"


def as_live(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as the cluster shows it once controllers have done their part."""
    live = copy.deepcopy(obj)
    kind, name = live["kind"], live["metadata"]["name"]
    if kind in WEBHOOK_KINDS:
        for hook in live.get("webhooks", []):
            hook.setdefault("clientConfig", {})["caBundle"] = CA
            if name.endswith("knative.dev"):
                hook["rules"] = [{"apiGroups": ["serving.knative.dev"], "operations": ["CREATE"]}]
            if name == "istio-validator-istio-system":
                hook["failurePolicy"] = "Fail"
    elif kind == "CustomResourceDefinition" and live["spec"].get("conversion", {}).get("webhook"):
        live["spec"]["conversion"]["webhook"].setdefault("clientConfig", {})["caBundle"] = CA
    elif kind == "ClusterRole" and live.get("aggregationRule"):
        live["rules"] = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]
    elif kind == "Secret" and "data" not in live and "stringData" not in live:
        live["data"] = {"tls.crt": CA}
    return live


@pytest.fixture(scope="module")
def jq() -> Iterator[Any]:
    from tether.adapters.jqrunner import JqRunner

    with JqRunner(deadline_s=5.0) as runner:
        yield runner


def compared(obj: dict[str, Any], rules: list[ignore.IgnoreRule], jq: Any) -> dict[str, Any]:
    return ignore.strip(obj, ignore.prepare(rules, ResourceKey.of(obj), obj), jq)


def test_fields_controllers_write_never_show_as_differences(children, rendered, jq):
    hidden = 0
    for name, objects in rendered.items():
        spec_rules = children[name]["spec"].get("ignoreDifferences", [])
        rules = [ignore.IgnoreRule.from_spec(entry) for entry in spec_rules]
        for obj in objects:
            live = as_live(obj)
            if live == obj:
                continue
            hidden += 1
            assert compared(live, rules, jq) == compared(obj, rules, jq), (
                f"{name}: {obj['kind']} {obj['metadata']['name']}"
            )
    # 29 webhook configurations, 2 conversion CRDs, 14 aggregated roles, and 5 Secrets shipped
    # without data (4 for webhook certificates, dex-passwords)
    assert hidden == 50


def test_a_plain_cluster_roles_rules_still_show_as_differences(children, rendered, jq):
    rules = [
        ignore.IgnoreRule.from_spec(e) for e in children["pipelines"]["spec"]["ignoreDifferences"]
    ]
    role = next(
        o
        for o in rendered["pipelines"]
        if o["kind"] == "ClusterRole" and "aggregationRule" not in o
    )
    changed = {**copy.deepcopy(role), "rules": []}

    assert compared(changed, rules, jq) != compared(role, rules, jq)
