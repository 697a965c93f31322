"""Which changed files concern an app: the manifest-generate-paths annotation's rules."""

from __future__ import annotations

from tether.core.sources import generatepaths
from tether.core.sources.generatepaths import touches


def test_watched_paths_are_relative_to_the_source_or_absolute_in_the_repository():
    assert touches(["apps/a/x.yaml"], "apps/a", ["."])
    assert not touches(["apps/b/x.yaml"], "apps/a", ["."])
    assert touches(["shared/x.yaml"], "apps/a", ["/shared"])
    assert touches(["apps/common/x.yaml"], "apps/a", ["../common"])
    assert not touches(["apps/common-old/x.yaml"], "apps/a", ["../common"])
    assert touches(["anything"], "apps/a", ["/"])


def test_a_watched_path_may_be_a_glob_whose_star_stays_in_one_directory():
    assert touches(["apps/a/values-prod.yaml"], "apps/a", ["values-*.yaml"])
    assert touches(["charts/x/Chart.yaml"], "apps/a", ["/charts/*/Chart.yaml"])
    assert not touches(["apps/a/sub/values-prod.yaml"], "apps/a", ["values-*.yaml"])
    assert not touches(["apps/a/other.yaml"], "apps/a", ["values-*.yaml"])


def test_a_file_named_exactly_as_a_watched_path_counts():
    assert touches(["apps/a/kustomization.yaml"], "apps/a", ["kustomization.yaml"])
    assert touches(["/apps/a/kustomization.yaml"], "apps/a", ["kustomization.yaml"])


def test_the_annotation_is_split_on_semicolons_and_blank_entries_are_dropped():
    annotations = {generatepaths.MANIFEST_GENERATE_PATHS: " .; ;/shared;"}
    assert generatepaths.watched_paths(annotations) == [".", "/shared"]
    assert generatepaths.watched_paths({}) == []
    assert generatepaths.watched_paths({generatepaths.MANIFEST_GENERATE_PATHS: ""}) == []
