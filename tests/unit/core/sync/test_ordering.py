from __future__ import annotations

import dataclasses

import pytest

from tether.core.sync import ordering
from tether.model.resources import Manifest
from tether.model.status import SyncPhase

from .factories import crd, obj


@dataclasses.dataclass(frozen=True)
class Item:
    manifest: Manifest | None
    phase: SyncPhase
    wave: int
    label: str


def slot(item: Item) -> ordering.Slot:
    return ordering.Slot(item.phase, item.wave, item.label.split(":")[0], item.label)


def arrange(*items: Item) -> list[str]:
    ordered = ordering.arrange(
        items,
        slot=slot,
        target=lambda i: i.manifest,
        move=lambda i, phase, wave: dataclasses.replace(i, phase=phase, wave=wave),
    )
    return [f"{i.label}@{i.phase.value}/{i.wave}" for i in ordered]


def item(manifest: Manifest, phase: SyncPhase = SyncPhase.SYNC, wave: int | None = None) -> Item:
    kind = str(manifest["kind"])
    name = str(manifest["metadata"]["name"])
    return Item(
        manifest, phase, ordering.wave_of(manifest) if wave is None else wave, f"{kind}:{name}"
    )


@pytest.mark.parametrize(
    ("notes", "wave"),
    [
        ({}, 0),
        ({"argocd.argoproj.io/sync-wave": "3"}, 3),
        ({"argocd.argoproj.io/sync-wave": " -2 "}, -2),
        ({"argocd.argoproj.io/sync-wave": "soon", "helm.sh/hook-weight": "7"}, 7),
        ({"helm.sh/hook-weight": "-5"}, -5),
        ({"argocd.argoproj.io/sync-wave": "1", "helm.sh/hook-weight": "7"}, 1),
        ({"helm.sh/hook-weight": "x"}, 0),
    ],
)
def test_the_wave_comes_from_the_sync_wave_then_the_helm_weight(
    notes: dict[str, str], wave: int
) -> None:
    assert ordering.wave_of(obj("ConfigMap", "a", annotations=notes)) == wave


def test_the_kind_table_is_argos_order_and_unknown_kinds_come_last() -> None:
    ranks = [ordering.kind_rank(k) for k in ordering.KIND_RANK]
    assert ranks == sorted(ranks)
    assert list(ordering.KIND_RANK)[:3] == ["Namespace", "NetworkPolicy", "ResourceQuota"]
    assert ordering.kind_rank("APIService") < ordering.kind_rank("Foo")
    assert ordering.kind_rank("MutatingWebhookConfiguration") == ordering.UNLISTED_RANK
    assert ordering.kind_rank("Application") == ordering.UNLISTED_RANK
    assert ordering.kind_rank("Deployment") < ordering.kind_rank("ValidatingWebhookConfiguration")


def test_phase_then_wave_then_kind_then_name() -> None:
    result = arrange(
        item(obj("Deployment", "b")),
        item(obj("Deployment", "a")),
        item(obj("ConfigMap", "z", wave=1)),
        item(obj("Service", "s")),
        item(obj("Job", "post"), SyncPhase.POST_SYNC, -10),
        item(obj("Job", "pre"), SyncPhase.PRE_SYNC, 10),
        item(obj("Foo", "cr")),
    )
    assert result == [
        "Job:pre@PreSync/10",
        "Service:s@Sync/0",
        "Deployment:a@Sync/0",
        "Deployment:b@Sync/0",
        "Foo:cr@Sync/0",
        "ConfigMap:z@Sync/1",
        "Job:post@PostSync/-10",
    ]


def test_a_crd_in_a_later_wave_moves_before_its_first_custom_resource() -> None:
    result = arrange(
        item(obj("Foo", "cr", wave=0)),
        item(crd("example.com", "Foo", wave=5)),
        item(obj("Foo", "cr2", wave=1)),
    )
    assert result == [
        "CustomResourceDefinition:foos.example.com@Sync/0",
        "Foo:cr@Sync/0",
        "Foo:cr2@Sync/1",
    ]


def test_a_crd_already_before_its_users_stays_put() -> None:
    result = arrange(item(crd("example.com", "Foo", wave=-1)), item(obj("Foo", "cr")))
    assert result == ["CustomResourceDefinition:foos.example.com@Sync/-1", "Foo:cr@Sync/0"]


def test_a_namespace_moves_before_a_presync_hook_in_it_and_inherits_its_phase() -> None:
    result = arrange(
        item(obj("ConfigMap", "c", "team")),
        item(obj("Namespace", "team", "")),
        item(obj("Job", "migrate", "team"), SyncPhase.PRE_SYNC, 0),
    )
    assert result == [
        "Namespace:team@PreSync/0",
        "Job:migrate@PreSync/0",
        "ConfigMap:c@Sync/0",
    ]


def test_prunes_are_never_hoisted_and_do_not_count_as_users() -> None:
    prune = Item(None, SyncPhase.SYNC, -1, "Foo:gone")
    result = arrange(prune, item(crd("example.com", "Foo", wave=3)))
    assert result == ["Foo:gone@Sync/-1", "CustomResourceDefinition:foos.example.com@Sync/3"]


def test_a_crd_without_group_or_kind_is_not_a_dependency() -> None:
    broken = obj("CustomResourceDefinition", "broken", "", spec={"group": "x"})
    assert ordering.crd_kind(broken) is None
    assert ordering.crd_kind(obj("ConfigMap", "a")) is None
    assert ordering.is_crd(crd("a.io", "A"))


@pytest.mark.parametrize(
    ("waves", "mirror"),
    [
        ([], {}),
        ([3], {3: 3}),
        ([0, 3], {0: 3, 3: 0}),
        ([-1, 0, 2, 2, 5], {-1: 5, 0: 2, 2: 0, 5: -1}),
    ],
)
def test_prune_waves_are_mirrored(waves: list[int], mirror: dict[int, int]) -> None:
    assert ordering.reversed_prune_waves(waves) == mirror
