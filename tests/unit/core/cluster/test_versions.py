"""A cluster's versions as renders get them: Argo CD's ``v1.36.3`` and its API version list."""

from __future__ import annotations

import pytest

from tether.core.cluster import versions


@pytest.mark.parametrize(
    ("git_version", "expected"),
    [
        ("v1.36.3", "v1.36.3"),
        ("1.36.3", "v1.36.3"),
        # A vendor's or a build's suffix goes, as Argo CD drops it.
        ("v1.29.4-eks-036c24b", "v1.29.4"),
        ("v1.35.4+rke2r1", "v1.35.4"),
        ("v1.37.0-alpha.1", "v1.37.0"),
        ("v1.36", "v1.36"),
    ],
)
def test_the_kube_version_is_v_and_the_numbers_of_the_git_version(git_version, expected):
    assert versions.kube_version(git_version, "1", "0") == expected


def test_major_and_minor_stand_in_when_the_git_version_cannot_be_read():
    assert versions.kube_version("", "1", "27+") == "v1.27"
    assert versions.kube_version("unknown", "1", "30") == "v1.30"


def test_no_version_at_all_gives_an_empty_one():
    assert versions.kube_version("", "", "") == ""
    assert versions.kube_version("", "x", "y") == ""


def test_api_versions_list_each_group_version_once_and_each_kind_in_it_sorted():
    served = [
        ("apps", "v1", "Deployment"),
        ("", "v1", "Pod"),
        ("apps", "v1", "StatefulSet"),
        ("", "v1", "ConfigMap"),
        ("monitoring.coreos.com", "v1", "ServiceMonitor"),
        ("autoscaling", "v2", "HorizontalPodAutoscaler"),
        ("autoscaling", "v1", "HorizontalPodAutoscaler"),
    ]
    assert versions.api_versions(served) == (
        "apps/v1",
        "apps/v1/Deployment",
        "apps/v1/StatefulSet",
        "autoscaling/v1",
        "autoscaling/v1/HorizontalPodAutoscaler",
        "autoscaling/v2",
        "autoscaling/v2/HorizontalPodAutoscaler",
        "monitoring.coreos.com/v1",
        "monitoring.coreos.com/v1/ServiceMonitor",
        "v1",
        "v1/ConfigMap",
        "v1/Pod",
    )
