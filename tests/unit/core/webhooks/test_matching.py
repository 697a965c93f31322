"""A push refreshes exactly the apps whose repository, revision and watched paths it moves."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.model.examples import minimal_application
from tether.core.sources.generatepaths import MANIFEST_GENERATE_PATHS
from tether.core.webhooks import matching
from tether.core.webhooks.events import Push
from tether.model.application import Application, parse_application


def push(
    url: str = "https://github.com/org/repo",
    revision: str = "main",
    *,
    head: bool = True,
    files: tuple[str, ...] = (),
) -> Push:
    return Push("github", (url,), revision, head, files)


def app(
    repo: str = "https://github.com/org/repo",
    revision: str | None = "main",
    path: str = "app",
    annotations: dict[str, str] | None = None,
    **spec: Any,
) -> Application:
    source: dict[str, Any] = {"repoURL": repo, "path": path}
    if revision is not None:
        source["targetRevision"] = revision
    body = minimal_application(source=source, **spec)
    if annotations:
        body["metadata"]["annotations"] = annotations
    return parse_application(body)


# Cases after Argo CD's own URL table (facts, not its code): scheme, user, ssh prefixes, port,
# separator and .git are free; host and path are exact.
@pytest.mark.parametrize(
    ("payload_url", "repo_url", "matches"),
    [
        ("https://example.com/org/repo", "https://example.com/org/repo", True),
        ("https://example.com/org/repo", "https://example.com/org/repo.git", True),
        ("https://example.com/org/repo", "http://example.com/org/repo", True),
        ("https://example.com/org/repo", "git@example.com:org/repo", True),
        ("https://example.com/org/repo", "git@example.com:org/repo.git", True),
        ("https://example.com/org/repo", "ssh://git@example.com/org/repo", True),
        ("https://example.com/org/repo", "ssh://git@example.com:22/org/repo.git", True),
        ("https://example.com/org/repo", "https://user@example.com/org/repo", True),
        ("https://example.com/org/repo", "https://user:token@example.com/org/repo", True),
        ("https://example.com/org/repo", "ssh://git@ssh.example.com:443/org/repo", True),
        ("https://example.com/org/repo", "git@altssh.example.com:org/repo", True),
        ("https://example.com/org/repo", "example.com/org/repo", True),
        ("http://example.com:8080/org/repo", "git://example.com:9418/org/repo.git", True),
        ("https://example.com/org/repo", "HTTPS://EXAMPLE.COM/Org/Repo", True),
        ("https://Example.com/Org/Repo", "https://example.com/org/repo", True),
        ("https://example.com:8443/org/repo", "https://example.com/org/repo", True),
        ("https://example.com/org/repo.git", "https://example.com/org/repo", True),
        ("git@example.com:org/repo.git", "https://example.com/org/repo", True),
        ("https://example.com/org/repo", "https://example.com/org/repo-2", False),
        ("https://example.com/org/repo", "https://example.com/org/repo/sub", False),
        ("https://example.com/org/repo", "https://example.com/other/org/repo", False),
        ("https://example.com/org/repo", "https://another.com/org/repo", False),
        ("https://example.com/org/repo", "https://example.com.evil.net/org/repo", False),
        ("https://example.com/org/repo", "https://evil.net/example.com/org/repo", False),
        ("https://example.com/org/repo", "https://xexample.com/org/repo", False),
        ("https://example.com/org/repo", "https://example.com/org/repo.gitx", False),
        ("https://example.com/org/repo", "ftp://example.com/org/repo", False),
        ("https://example.com/org/re.o", "https://example.com/org/rexo", False),
        ("https://example.com/", "https://example.com/org/repo", False),
        ("", "https://example.com/org/repo", False),
        ("not a url", "https://example.com/org/repo", False),
    ],
)
def test_repository_urls_match_by_host_and_path_whatever_their_spelling(
    payload_url, repo_url, matches
):
    assert matching.Matcher(push(payload_url)).names_repo(repo_url) is matches


def test_a_payload_naming_several_urls_matches_through_any_of_them():
    event = Push(
        "bitbucketserver",
        ("https://bb.example.com/scm/proj/repo.git", "ssh://git@bb.example.com:7999/proj/repo.git"),
        "main",
        True,
        (),
    )
    matcher = matching.Matcher(event)
    assert matcher.names_repo("ssh://git@bb.example.com:7999/proj/repo.git")
    assert matcher.names_repo("https://bb.example.com/scm/proj/repo")
    assert not matcher.names_repo("https://bb.example.com/proj/repo-2")


@pytest.mark.parametrize(
    ("target", "revision", "head", "matches"),
    [
        (None, "main", True, True),
        ("", "main", True, True),
        ("HEAD", "main", True, True),
        ("HEAD", "feature", False, False),
        ("main", "main", False, True),
        ("refs/heads/main", "main", False, True),
        ("refs/tags/v1.0.0", "v1.0.0", False, True),
        ("main", "feature", False, False),
        ("feature/x", "feature/x", False, True),
        ("three/part/rev", "rev", False, False),
        ("1.*", "1.1.0", False, True),
        ("1.*", "v1.1.0", False, True),
        (">=1.0.0 <2.0.0", "1.5.3", False, True),
        ("1.*", "2.0.0", False, False),
        ("~1.2", "1.3.0", False, False),
        ("1.*", "release", False, False),
        ("not a constraint", "1.0.0", False, False),
        ("1.2.3", "1.2.3", False, True),
        ("abc123def", "main", True, False),
    ],
)
def test_revisions_match_as_argo_cd_matches_them(target, revision, head, matches):
    assert matching.revision_matches(target, push(revision=revision, head=head)) is matches


def test_an_app_tracking_the_pushed_branch_of_the_pushed_repository_is_concerned():
    matcher = matching.Matcher(push())
    assert matcher.concerns(app())
    assert not matcher.concerns(app(revision="dev"))
    assert not matcher.concerns(app(repo="https://github.com/org/repo-2"))


def test_without_the_annotation_any_changed_file_concerns_the_app():
    assert matching.Matcher(push(files=("elsewhere/x.yaml",))).concerns(app())


def test_with_the_annotation_only_a_change_under_a_watched_path_concerns_the_app():
    watched = app(annotations={MANIFEST_GENERATE_PATHS: ".;/shared"})
    assert matching.Matcher(push(files=("app/deploy.yaml",))).concerns(watched)
    assert matching.Matcher(push(files=("shared/base.yaml", "docs/x.md"))).concerns(watched)
    assert not matching.Matcher(push(files=("docs/x.md", "other/app.yaml"))).concerns(watched)


def test_a_push_that_lists_no_files_concerns_an_annotated_app():
    watched = app(annotations={MANIFEST_GENERATE_PATHS: "."})
    assert matching.Matcher(push(files=())).concerns(watched)


def test_an_annotation_listing_nothing_is_as_if_absent():
    watched = app(annotations={MANIFEST_GENERATE_PATHS: ";"})
    assert matching.Matcher(push(files=("docs/x.md",))).concerns(watched)


def test_watched_paths_may_be_globs():
    watched = app(annotations={MANIFEST_GENERATE_PATHS: "/envs/*/values.yaml"})
    assert matching.Matcher(push(files=("envs/prod/values.yaml",))).concerns(watched)
    assert not matching.Matcher(push(files=("envs/prod/other.yaml",))).concerns(watched)


def test_a_multi_source_app_is_concerned_when_any_source_is_moved():
    sources = [
        {"repoURL": "https://github.com/org/charts", "path": "chart", "targetRevision": "main"},
        {"repoURL": "git@github.com:org/repo.git", "targetRevision": "prod", "ref": "values"},
    ]
    multi = parse_application(minimal_application(source=None, sources=sources))
    assert matching.Matcher(push(revision="prod", head=False)).concerns(multi)
    assert not matching.Matcher(push(revision="main")).concerns(multi)
    assert matching.Matcher(push("https://github.com/org/charts")).concerns(multi)


def test_watched_paths_are_relative_to_the_moved_source():
    sources = [
        {"repoURL": "https://github.com/org/a", "path": "x", "targetRevision": "main"},
        {"repoURL": "https://github.com/org/b", "path": "y", "targetRevision": "main"},
    ]
    body = minimal_application(source=None, sources=sources)
    body["metadata"]["annotations"] = {MANIFEST_GENERATE_PATHS: "."}
    multi = parse_application(body)
    assert matching.Matcher(push("https://github.com/org/a", files=("x/1.yaml",))).concerns(multi)
    assert not matching.Matcher(push("https://github.com/org/a", files=("y/1.yaml",))).concerns(
        multi
    )


def test_a_helm_chart_source_is_never_moved_by_a_git_push():
    chart = app(repo="https://github.com/org/repo", revision="main")
    chart_source = chart.spec.effective_sources()[0].model_copy(update={"chart": "nginx"})
    assert not matching.Matcher(push()).moves(chart_source, [])
