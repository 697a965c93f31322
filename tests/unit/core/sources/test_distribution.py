"""Re-pointing a distribution at a fork: structural, comment-preserving, idempotent, selective."""

from __future__ import annotations

import difflib
import pathlib
import textwrap

import pytest
import yaml

from tether.core.sources import distribution as dist
from tether.model.application import parse_application
from tether.model.errors import InvalidInputError

DISTRIBUTION = pathlib.Path(__file__).resolve().parents[4] / "distributions" / "kubeflow"
UPSTREAM = "https://github.com/kubeflow/manifests.git"
FORK = "https://github.com/acme/kubeflow-fork.git"
POINTING = dist.Pointing(repo=FORK, revision="main", manifests_repo=FORK, manifests_revision="main")

CHILD = textwrap.dedent(
    """\
    # Dex: the OIDC provider.
    apiVersion: argoproj.io/v1alpha1
    kind: Application
    metadata:
      name: dex  # the name users see
      namespace: tether
      annotations:
        argocd.argoproj.io/sync-wave: "3"
    spec:
      project: kubeflow
      source:
        # kubeflow/manifests, pinned
        repoURL: https://github.com/kubeflow/manifests.git  # upstream until init
        targetRevision: 009c88084074904c7743384ff50d3bd70012ef55
        path: common/dex/overlays/oauth2-proxy
        kustomize:
          patches:
            - target:
                kind: Secret
              patch: |-
                - op: remove
                  path: /stringData
      destination:
        server: https://kubernetes.default.svc
        namespace: auth
      syncPolicy:
        syncOptions:
          - ServerSideApply=true
    """
)

ROOT = textwrap.dedent(
    """\
    # The root.
    apiVersion: argoproj.io/v1alpha1
    kind: Application
    metadata:
      name: kubeflow
      namespace: tether
    spec:
      project: default
      source:
        repoURL: https://github.com/kubeflow/manifests.git
        targetRevision: master
        path: distributions/kubeflow/apps
        directory:
          recurse: true  # every component folder
      destination:
        server: https://kubernetes.default.svc
    """
)


def changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="")
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def repoint(text: str, pointing: dist.Pointing = POINTING) -> dist.Rewrite:
    return dist.repoint_child(text, pointing, manifests_repos=[UPSTREAM])


def test_repointing_a_child_changes_only_its_repo_url_and_revision_lines():
    result = repoint(CHILD)

    assert changed_lines(CHILD, result.text) == [
        "-    repoURL: https://github.com/kubeflow/manifests.git  # upstream until init",
        "-    targetRevision: 009c88084074904c7743384ff50d3bd70012ef55",
        f"+    repoURL: {FORK}  # upstream until init",
        "+    targetRevision: main",
    ]
    assert len(result.changes) == 2


def test_comments_block_scalars_and_quotes_survive_a_rewrite():
    text = repoint(CHILD).text

    for kept in (
        "# Dex: the OIDC provider.",
        "# the name users see",
        "# kubeflow/manifests, pinned",
    ):
        assert kept in text
    assert 'argocd.argoproj.io/sync-wave: "3"' in text
    assert "      patch: |-\n            - op: remove\n" in text


def test_a_second_run_returns_the_file_byte_for_byte():
    once = repoint(CHILD).text
    twice = repoint(once)

    assert twice.text == once
    assert not twice.changed


def test_a_rerun_pointing_at_another_fork_recognises_the_first_fork():
    first = repoint(CHILD).text
    other = dist.Pointing("https://git.example/x.git", "v2", "https://git.example/x.git", "v2")

    result = dist.repoint_child(first, other, manifests_repos=[UPSTREAM, FORK])

    assert "repoURL: https://git.example/x.git" in result.text
    assert "targetRevision: v2" in result.text


def test_helm_chart_sources_and_other_repositories_are_left_alone():
    text = textwrap.dedent(
        """\
        apiVersion: argoproj.io/v1alpha1
        kind: Application
        metadata:
          name: mixed
        spec:
          project: kubeflow
          sources:
            - repoURL: https://charts.jetstack.io
              chart: cert-manager
              targetRevision: v1.19.4
            - repoURL: https://github.com/someone/else.git
              targetRevision: main
              path: overlays
            - repoURL: git@github.com:kubeflow/manifests
              targetRevision: v1.11.0
              path: common/dex/base
          destination:
            server: https://kubernetes.default.svc
        """
    )

    result = repoint(text)

    assert changed_lines(text, result.text) == [
        "-    - repoURL: git@github.com:kubeflow/manifests",
        "-      targetRevision: v1.11.0",
        f"+    - repoURL: {FORK}",
        "+      targetRevision: main",
    ]


def test_a_chart_served_from_the_manifests_repository_is_still_left_alone():
    text = CHILD.replace("    path: common/dex", "    chart: dex\n    path: common/dex")

    assert not repoint(text).changed


def test_keeping_each_childs_revision_changes_only_the_repository():
    keep = dist.Pointing(FORK, "main", UPSTREAM, None)
    on_fork = repoint(CHILD).text

    result = dist.repoint_child(on_fork, keep, manifests_repos=[FORK])

    assert changed_lines(on_fork, result.text) == [
        f"-    repoURL: {FORK}  # upstream until init",
        f"+    repoURL: {UPSTREAM}  # upstream until init",
    ]


def test_a_missing_target_revision_is_added_after_the_repository():
    text = CHILD.replace("    targetRevision: 009c88084074904c7743384ff50d3bd70012ef55\n", "")

    result = repoint(text).text

    assert f"repoURL: {FORK}  # upstream until init\n    targetRevision: main\n" in result


def test_a_numeric_looking_revision_stays_a_string():
    pointing = dist.Pointing(FORK, "1.10", FORK, "1.10")

    doc = yaml.safe_load(repoint(CHILD, pointing).text)

    assert doc["spec"]["source"]["targetRevision"] == "1.10"


def test_a_quoted_repository_keeps_its_quotes():
    text = CHILD.replace(
        "repoURL: https://github.com/kubeflow/manifests.git",
        'repoURL: "https://github.com/kubeflow/manifests.git"',
    )

    assert f'repoURL: "{FORK}"' in repoint(text).text


def test_lists_flush_with_their_key_keep_that_style():
    text = CHILD.replace("      - ServerSideApply=true", "    - ServerSideApply=true")
    text = text.replace(
        "        - target:\n            kind: Secret\n          patch: |-\n"
        "            - op: remove\n              path: /stringData\n",
        "      - target:\n          kind: Secret\n        patch: |-\n"
        "          - op: remove\n            path: /stringData\n",
    )

    result = repoint(text)

    assert len(changed_lines(text, result.text)) == 4


def test_every_document_of_a_multi_document_file_is_rewritten_and_others_are_kept():
    project = "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n  name: kubeflow\n"
    text = f"---\n{project}---\n{CHILD}---\n{CHILD.replace('name: dex ', 'name: dex2 ')}"

    result = repoint(text)

    assert result.text.count(f"repoURL: {FORK}") == 2
    assert result.text.startswith(f"---\n{project}---\n")
    assert len(result.changes) == 4


def test_invalid_yaml_is_refused_with_a_reason():
    with pytest.raises(InvalidInputError, match="not valid YAML"):
        repoint("spec: [unclosed\n")


def test_the_root_is_pointed_at_the_fork_and_records_the_manifests_repository():
    result = dist.repoint_root(ROOT, POINTING)
    state = dist.read_root(result.text)

    assert (state.repo, state.revision, state.manifests_repo) == (FORK, "main", FORK)
    assert state.path == "distributions/kubeflow/apps"
    assert "recurse: true  # every component folder" in result.text
    assert dist.repoint_root(result.text, POINTING).text == result.text


def test_a_root_with_several_sources_is_refused():
    text = ROOT.replace("  source:\n", "  sources: [{repoURL: x}]\n  source:\n")

    with pytest.raises(InvalidInputError, match=r"one spec\.source"):
        dist.repoint_root(text, POINTING)


def test_the_selection_is_written_to_and_removed_from_the_roots_exclude():
    excluded = dist.repoint_root(ROOT, POINTING, exclude="{katib/katib.yaml,spark/spark.yaml}")
    assert dist.read_root(excluded.text).exclude == "{katib/katib.yaml,spark/spark.yaml}"
    assert "recurse: true  # every component folder" in excluded.text

    cleared = dist.repoint_root(excluded.text, POINTING, exclude="")
    assert dist.read_root(cleared.text).exclude == ""
    assert dist.repoint_root(excluded.text, POINTING).text == excluded.text


CHILDREN = (
    dist.Child("istio-crds", "istio/istio-crds.yaml"),
    dist.Child("istio", "istio/istio.yaml"),
    dist.Child("katib", "katib/katib.yaml"),
    dist.Child("kserve", "kserve/kserve.yaml"),
    dist.Child("kserve-models-web-app", "kserve/kserve-models-web-app.yaml"),
    dist.Child("", "project.yaml"),
)


def test_components_keep_whole_folders_and_exclude_the_rest():
    assert dist.select(CHILDREN, ["istio", "kserve"]) == ("katib/katib.yaml",)


def test_an_application_name_keeps_just_that_application():
    assert dist.select(CHILDREN, ["istio", "kserve"]) == dist.select(
        CHILDREN, ["istio-crds", "istio", "kserve", "kserve-models-web-app"]
    )
    assert dist.select(CHILDREN, ["istio", "kserve-models-web-app"]) == (
        "katib/katib.yaml",
        "kserve/kserve.yaml",
    )


def test_all_keeps_everything_and_files_outside_component_folders_are_never_excluded():
    assert dist.select(CHILDREN, ["all"]) == ()
    assert "project.yaml" not in dist.select(CHILDREN, ["katib"])


def test_an_unknown_component_is_refused_naming_the_known_ones():
    with pytest.raises(InvalidInputError, match=r"unknown component\(s\) pipelnes.*istio, katib"):
        dist.select(CHILDREN, ["pipelnes"])


def test_the_exclude_pattern_matches_exactly_the_excluded_files():
    pattern = dist.exclude_pattern(["katib/katib.yaml", "kserve/kserve.yaml"])

    assert pattern == "{katib/katib.yaml,kserve/kserve.yaml}"
    assert dist.is_excluded(pattern, "kserve/kserve.yaml")
    assert not dist.is_excluded(pattern, "kserve/kserve-models-web-app.yaml")
    assert dist.exclude_pattern(["katib/katib.yaml"]) == "katib/katib.yaml"
    assert dist.exclude_pattern([]) == ""
    assert not dist.is_excluded("", "katib/katib.yaml")


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/kubeflow/manifests.git",
        "https://GitHub.com/kubeflow/manifests/",
        "git@github.com:kubeflow/manifests.git",
        "ssh://git@github.com/kubeflow/manifests",
        "https://token@github.com/kubeflow/manifests",
    ],
)
def test_spellings_of_one_repository_are_the_same_repository(url):
    assert dist.same_repo(url, UPSTREAM)


def test_a_different_repository_is_not_the_same():
    assert not dist.same_repo("https://github.com/kubeflow/manifests-fork", UPSTREAM)
    assert not dist.same_repo("https://gitlab.com/kubeflow/manifests", UPSTREAM)


def test_every_file_of_the_shipped_distribution_holds_valid_applications():
    apps = [
        app
        for path in sorted(DISTRIBUTION.rglob("*.yaml"))
        for app in dist.applications_in(path.read_text(), str(path))
    ]

    assert len(apps) == 28  # the root and 27 children
    for app in apps:
        parse_application(app)


@pytest.mark.parametrize(
    "rel", ["apps/auth/dex.yaml", "apps/project.yaml", "apps/istio/istio.yaml"]
)
def test_shipped_files_are_rewritten_into_valid_applications_once_and_for_all(rel):
    text = (DISTRIBUTION / rel).read_text()

    rewritten = repoint(text).text

    assert repoint(rewritten).text == rewritten
    for app in dist.applications_in(rewritten, rel):
        assert [s.repo_url for s in parse_application(app).effective_sources()] == [FORK]


def test_the_application_namespace_moves_applications_and_projects_but_nothing_else():
    project = textwrap.dedent(
        """\
        apiVersion: argoproj.io/v1alpha1
        kind: AppProject
        metadata:
          name: kubeflow
          namespace: tether
        """
    )
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: tether\n"
    moved = dist.Pointing(FORK, "main", FORK, "main", app_namespace="argocd")

    result = repoint(f"{project}---\n{config}---\n{CHILD}", moved)

    assert result.text.count("namespace: argocd") == 2
    assert "name: c\n  namespace: tether\n" in result.text
    assert "    namespace: auth\n" in result.text  # the child's destination stays


def test_the_root_moves_with_its_children_and_deploys_them_into_that_namespace():
    moved = dist.Pointing(FORK, "main", FORK, "main", app_namespace="argocd")

    doc = yaml.safe_load(dist.repoint_root(ROOT, moved).text)

    assert doc["metadata"]["namespace"] == "argocd"
    assert doc["spec"]["destination"]["namespace"] == "argocd"


def test_an_empty_component_list_is_refused_rather_than_excluding_everything():
    with pytest.raises(InvalidInputError, match="name 'all'"):
        dist.select(CHILDREN, [" ", ""])


@pytest.mark.parametrize(
    "url",
    ["https://ghp_secret@github.com/acme/fork.git", "https://me:s3cret@git.example/fork.git"],
)
def test_a_url_with_credentials_is_refused_without_echoing_them(url):
    with pytest.raises(InvalidInputError, match="carries credentials") as caught:
        dist.check_pointing(dist.Pointing(url, "main", FORK, "main"))

    assert "secret" not in str(caught.value) and "s3cret" not in str(caught.value)


def test_ssh_urls_with_the_usual_git_user_are_accepted():
    for url in ("git@github.com:acme/fork.git", "ssh://git@github.com/acme/fork.git"):
        dist.check_pointing(dist.Pointing(url, "main", url, "main"))


def test_credentials_already_in_a_file_are_not_repeated_in_the_change_list():
    text = CHILD.replace(
        "https://github.com/kubeflow/manifests.git", "https://tok@github.com/x.git"
    )

    result = dist.repoint_child(text, POINTING, manifests_repos=["https://github.com/x.git"])

    assert result.changed
    assert not any("tok" in line for line in result.changes)


def test_a_windows_checkout_keeps_its_line_endings():
    text = CHILD.replace("\n", "\r\n")

    result = repoint(text)

    assert changed_lines(CHILD, result.text.replace("\r\n", "\n")) == changed_lines(
        CHILD, repoint(CHILD).text
    )
    assert result.text.count("\r\n") == text.count("\r\n")
    assert repoint(result.text).text == result.text


def test_a_file_in_an_unusual_style_is_still_rewritten_to_the_same_data():
    text = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n   name: odd\n"
    text += "spec:\n   project: p\n   source:\n      repoURL: " + UPSTREAM + "\n      path: x\n"
    text += "   destination:\n      server: https://kubernetes.default.svc\n"

    result = repoint(text)

    expected = yaml.safe_load(text)
    expected["spec"]["source"].update(repoURL=FORK, targetRevision="main")
    assert yaml.safe_load(result.text) == expected
    assert list(yaml.safe_load(result.text)["spec"]["source"]) == [
        "repoURL",
        "targetRevision",
        "path",
    ]
