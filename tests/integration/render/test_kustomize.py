"""Kustomize sources with Argo CD's inline options, through the real kustomize CLI."""

from __future__ import annotations

import pathlib

import pytest

from tether.core.sources.rendering import BuildOptions

from .conftest import application, by_kind, failed, names, ok, write

pytestmark = [pytest.mark.tools, pytest.mark.timeout(60)]

BASE = {
    "base/kustomization.yaml": """
        resources: [deployment.yaml, service.yaml]
    """,
    "base/deployment.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: 1
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers: [{name: web, image: nginx:1.25}]
    """,
    "base/service.yaml": """
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec:
          selector: {app: web}
          ports: [{port: 80}]
    """,
    "overlays/prod/kustomization.yaml": """
        resources: [../../base]
        namePrefix: prod-
    """,
    "overlays/prod/patch-replicas.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec: {replicas: 5}
    """,
    "components/monitoring/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        resources: [monitor.yaml]
    """,
    "components/monitoring/monitor.yaml": """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: monitor}
        data: {scrape: "true"}
    """,
}


@pytest.fixture
def kustomize_repo(repo: pathlib.Path) -> pathlib.Path:
    write(repo, BASE)
    return repo


async def test_a_plain_overlay_renders_with_its_base(render, kustomize_repo):
    objects = ok(await render(application({"path": "overlays/prod"})))
    assert sorted(names(objects)) == ["prod-web", "prod-web"]
    assert {o["kind"] for o in objects} == {"Deployment", "Service"}


async def test_name_prefix_suffix_namespace_and_images_apply_on_top_of_the_source(
    render, kustomize_repo
):
    options = {
        "namePrefix": "a-",
        "nameSuffix": "-z",
        "namespace": "team",
        "images": ["nginx=registry.example/nginx:1.27", "busybox:1.36"],
    }
    objects = ok(await render(application({"path": "overlays/prod", "kustomize": options})))
    assert sorted(names(objects)) == ["a-prod-web-z", "a-prod-web-z"]
    assert {o["metadata"]["namespace"] for o in objects} == {"team"}
    [deployment] = by_kind(objects, "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example/nginx:1.27"


async def test_replicas_labels_and_annotations(render, kustomize_repo):
    options = {
        "replicas": [{"name": "prod-web", "count": 3}],
        "commonLabels": {"team": "payments"},
        "commonAnnotations": {"owner": "alice"},
    }
    objects = ok(await render(application({"path": "overlays/prod", "kustomize": options})))
    [deployment] = by_kind(objects, "Deployment")
    [service] = by_kind(objects, "Service")
    assert deployment["spec"]["replicas"] == 3
    assert deployment["metadata"]["labels"]["team"] == "payments"
    assert deployment["spec"]["selector"]["matchLabels"]["team"] == "payments"
    assert service["spec"]["selector"]["team"] == "payments"
    assert deployment["metadata"]["annotations"]["owner"] == "alice"


async def test_common_annotations_may_use_the_build_env(render, kustomize_repo):
    options = {
        "commonAnnotations": {"app": "$ARGOCD_APP_NAME", "ns": "${ARGOCD_APP_NAMESPACE}"},
        "commonAnnotationsEnvsubst": True,
    }
    objects = ok(await render(application({"path": "overlays/prod", "kustomize": options})))
    assert objects[0]["metadata"]["annotations"] == {"app": "demo", "ns": "apps"}


async def test_label_without_selector_leaves_selectors_alone(render, kustomize_repo):
    options = {"commonLabels": {"team": "payments"}, "labelWithoutSelector": True}
    objects = ok(await render(application({"path": "overlays/prod", "kustomize": options})))
    [deployment] = by_kind(objects, "Deployment")
    assert deployment["metadata"]["labels"]["team"] == "payments"
    assert "team" not in deployment["spec"]["selector"]["matchLabels"]
    assert "team" not in deployment["spec"]["template"]["metadata"]["labels"]


async def test_label_include_templates_labels_pod_templates_but_not_selectors(
    render, kustomize_repo
):
    options = {
        "commonLabels": {"team": "payments"},
        "labelWithoutSelector": True,
        "labelIncludeTemplates": True,
    }
    objects = ok(await render(application({"path": "overlays/prod", "kustomize": options})))
    [deployment] = by_kind(objects, "Deployment")
    assert deployment["spec"]["template"]["metadata"]["labels"]["team"] == "payments"
    assert "team" not in deployment["spec"]["selector"]["matchLabels"]


async def test_force_common_labels_and_annotations_replace_the_kustomizations_own(
    render, kustomize_repo
):
    write(
        kustomize_repo,
        {
            "labelled/kustomization.yaml": """
                resources: [../base]
                commonLabels: {team: base}
                commonAnnotations: {owner: base}
            """
        },
    )
    options = {
        "commonLabels": {"team": "payments"},
        "forceCommonLabels": True,
        "commonAnnotations": {"owner": "alice"},
        "forceCommonAnnotations": True,
    }
    objects = ok(await render(application({"path": "labelled", "kustomize": options})))
    for obj in objects:
        assert obj["metadata"]["labels"]["team"] == "payments", obj
        assert obj["metadata"]["annotations"]["owner"] == "alice", obj


async def test_patch_targets_and_options_reach_kustomize_as_written(render, repo):
    def cm(name: str, namespace: str) -> str:
        return (
            f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: {namespace}, "
            "labels: {tier: web}, annotations: {note: x}}\ndata: {x: original}\n"
        )

    write(
        repo,
        {
            "app/kustomization.yaml": "resources: [a.yaml, a-other.yaml, b.yaml]\n",
            "app/a.yaml": cm("a", "team"),
            "app/a-other.yaml": cm("a", "other"),
            "app/b.yaml": cm("b", "team"),
        },
    )
    target = {
        "group": "",
        "version": "v1",
        "kind": "ConfigMap",
        "name": "a",
        "namespace": "team",
        "labelSelector": "tier=web",
        "annotationSelector": "note=x",
    }
    patch = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: renamed}\ndata: {x: patched}\n"
    options = {
        "patches": [{"target": target, "patch": patch, "options": {"allowNameChange": True}}]
    }
    objects = ok(await render(application({"path": "app", "kustomize": options})))
    found = {(o["metadata"]["namespace"], o["metadata"]["name"]): o["data"]["x"] for o in objects}
    assert found == {
        ("team", "renamed"): "patched",
        ("other", "a"): "original",
        ("team", "b"): "original",
    }


async def test_inline_and_file_patches_and_components(render, kustomize_repo):
    options = {
        "patches": [
            {"path": "patch-replicas.yaml"},
            {
                "target": {"kind": "Service"},
                "patch": "- op: add\n  path: /metadata/labels\n  value: {patched: 'yes'}\n",
            },
        ],
        "components": ["../../components/monitoring"],
    }
    objects = ok(await render(application({"path": "overlays/prod", "kustomize": options})))
    [deployment] = by_kind(objects, "Deployment")
    [service] = by_kind(objects, "Service")
    assert deployment["spec"]["replicas"] == 5
    assert service["metadata"]["labels"] == {"patched": "yes"}
    assert "prod-monitor" not in names(objects)
    assert "monitor" in names(objects)


async def test_a_missing_component_fails_unless_ignored(render, kustomize_repo):
    options = {"components": ["../../components/nope"]}
    message = failed(await render(application({"path": "overlays/prod", "kustomize": options})))
    assert "components" in message
    assert "does not exist" in message
    options["ignoreMissingComponents"] = True  # type: ignore[assignment]
    ok(await render(application({"path": "overlays/prod", "kustomize": options})))


async def test_the_checkout_is_never_written(render, kustomize_repo):
    before = sorted(p.relative_to(kustomize_repo) for p in kustomize_repo.rglob("*"))
    options = {"namePrefix": "x-", "patches": [{"path": "patch-replicas.yaml"}]}
    ok(await render(application({"path": "overlays/prod", "kustomize": options})))
    assert sorted(p.relative_to(kustomize_repo) for p in kustomize_repo.rglob("*")) == before
    assert "x-" not in (kustomize_repo / "overlays/prod/kustomization.yaml").read_text()


async def test_a_kustomize_error_names_the_app_and_the_reason(render, repo):
    write(repo, {"app/kustomization.yaml": "resources: [missing.yaml]\n"})
    message = failed(await render(application({"path": "app"}, name="shop")))
    assert "application tether/shop" in message
    assert "kustomize build" in message
    assert "missing.yaml" in message
    assert str(repo) not in message


async def test_a_kustomization_that_reaches_outside_the_repository_is_refused(render, repo):
    write(repo, {"app/kustomization.yaml": "resources: [../../outside]\n"})
    message = failed(await render(application({"path": "app"})))
    assert "escapes the repository root" in message
    assert "app/kustomization.yaml" in message


async def test_build_options_from_settings_reach_kustomize(tmp_path, repo):
    from tether.services import manifests as service

    from .conftest import make_renderer

    write(
        repo,
        {
            "shared/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\n",
            "app/kustomization.yaml": "resources: [cm.yaml]\n",
            "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: own}\n",
        },
    )
    # A patch file outside the kustomization root needs LoadRestrictionsNone.
    write(repo, {"app/kustomization.yaml": "resources: [cm.yaml, ../shared/cm.yaml]\n"})
    strict = service.ManifestService(service.DirectoryRepos(str(repo)), make_renderer(tmp_path))
    assert "security" in failed(await strict.render_application(application({"path": "app"})))
    relaxed = service.ManifestService(
        service.DirectoryRepos(str(repo)),
        make_renderer(tmp_path),
        options=BuildOptions(kustomize=("--load-restrictor", "LoadRestrictionsNone")),
    )
    objects = ok(await relaxed.render_application(application({"path": "app"})))
    assert sorted(names(objects)) == ["own", "shared"]


async def test_helm_charts_inflate_with_enable_helm_the_kube_and_api_versions(tmp_path, repo):
    from tether.services import manifests as service

    from .conftest import make_renderer

    write(
        repo,
        {
            "app/kustomization.yaml": """
                helmGlobals: {chartHome: ../charts}
                helmCharts:
                - name: web
                  releaseName: inflated
                  namespace: team
            """,
            "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
            "charts/web/values.yaml": "{}\n",
            "charts/web/templates/cm.yaml": """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: {{ .Release.Name }}}
                data:
                  kube: {{ .Capabilities.KubeVersion.Version | quote }}
                  widget: {{ .Capabilities.APIVersions.Has "example.com/v1/Widget" | quote }}
            """,
        },
    )
    use_case = service.ManifestService(
        service.DirectoryRepos(str(repo)),
        make_renderer(tmp_path),
        options=BuildOptions(
            kustomize=("--enable-helm", "--load-restrictor", "LoadRestrictionsNone")
        ),
    )
    options = {"kubeVersion": "1.30.2", "apiVersions": ["example.com/v1/Widget"]}
    app = application({"path": "app", "kustomize": options})
    [cm] = ok(await use_case.render_application(app))
    assert cm["metadata"]["name"] == "inflated"
    assert cm["data"] == {"kube": "v1.30.2", "widget": "true"}
