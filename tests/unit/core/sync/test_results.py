from __future__ import annotations

import pytest

from tether.core.sync import actions as act, results
from tether.core.sync.results import index, put, record
from tether.model.operation import ResourceResult, result_key
from tether.model.resources import ResourceKey
from tether.model.status import HookPhase, ResultCode, SyncPhase

from .factories import obj

K = ResourceKey("apps", "Deployment", "app", "d")
M = obj("Deployment", "d")
S = SyncPhase.SYNC
OK = act.Outcome(True, "configured")
BAD = act.Outcome(False, "boom")


def test_the_result_key_is_argos() -> None:
    assert result_key(K, S) == "apps/Deployment/app/d:Sync"
    assert ResourceResult(K, SyncPhase.PRE_SYNC).result_key == "apps/Deployment/app/d:PreSync"


@pytest.mark.parametrize(
    ("action", "outcome", "expected"),
    [
        (act.Apply(K, S, M), OK, (ResultCode.SYNCED, HookPhase.RUNNING, "configured")),
        (
            act.Apply(K, S, M, dry_run=True),
            OK,
            (ResultCode.SYNCED, HookPhase.SUCCEEDED, "configured"),
        ),
        (act.Create(K, S, M), OK, (ResultCode.SYNCED, HookPhase.RUNNING, "configured")),
        (act.Update(K, S, M), BAD, (ResultCode.SYNC_FAILED, HookPhase.FAILED, "boom")),
        (act.Apply(K, S, M), BAD, (ResultCode.SYNC_FAILED, HookPhase.FAILED, "boom")),
        (act.Prune(K, S), act.Outcome(True), (ResultCode.PRUNED, HookPhase.SUCCEEDED, "pruned")),
        (act.Prune(K, S), BAD, (ResultCode.SYNC_FAILED, HookPhase.FAILED, "boom")),
        (act.DryRun(K, S, M), BAD, (ResultCode.SYNC_FAILED, None, "boom")),
        (
            act.DeleteHook(K, S, act.DeleteReason.TERMINATE),
            BAD,
            (None, HookPhase.FAILED, "failed to terminate: boom"),
        ),
        (
            act.DeleteHook(K, S, act.DeleteReason.POLICY),
            BAD,
            (None, HookPhase.ERROR, "failed to delete resource: boom"),
        ),
        (
            act.RemoveHookFinalizer(K, S),
            BAD,
            (None, HookPhase.ERROR, "failed to remove hook finalizer: boom"),
        ),
    ],
)
def test_outcomes_map_to_status_and_hook_phase_as_in_argo(
    action: act.Action, outcome: act.Outcome, expected: tuple[object, ...]
) -> None:
    (result,) = record((), action, outcome)
    assert (result.status, result.hook_phase, result.message) == expected
    assert result.key == K and result.sync_phase is S


@pytest.mark.parametrize(
    "action",
    [
        act.DryRun(K, S, M),
        act.DeleteHook(K, S, act.DeleteReason.BEFORE_CREATION),
        act.DeleteHook(K, S, act.DeleteReason.POLICY),
        act.DeleteHook(K, S, act.DeleteReason.TERMINATE),
        act.RemoveHookFinalizer(K, S),
        act.Wait("health"),
    ],
)
def test_successes_that_change_nothing_leave_no_trace(action: act.Action) -> None:
    assert record((), action, OK) == ()


def test_a_hook_apply_records_its_hook_type_and_version() -> None:
    (result,) = record((), act.Apply(K, SyncPhase.POST_SYNC, M, hook=True), OK)
    assert result.hook_type is SyncPhase.POST_SYNC
    assert result.version == "v1"


def test_results_are_updated_in_place_and_keep_the_last_message() -> None:
    first = record((), act.Apply(K, S, M), OK)
    other = put(first, ResourceResult(ResourceKey("", "ConfigMap", "app", "c"), S))
    updated = record(other, act.Apply(K, S, M), act.Outcome(True, ""))
    assert [r.key.name for r in updated] == ["d", "c"]
    assert updated[0].message == "configured"
    assert set(index(updated)) == {"apps/Deployment/app/d:Sync", "/ConfigMap/app/c:Sync"}


def _many(count: int, message: str = "configured") -> tuple[ResourceResult, ...]:
    return tuple(
        ResourceResult(
            ResourceKey("", "ConfigMap", "team-namespace", f"config-map-{i:05d}"),
            SyncPhase.SYNC,
            ResultCode.SYNCED,
            HookPhase.RUNNING,
            message,
            version="v1",
        )
        for i in range(count)
    )


def test_results_within_the_budget_are_kept_whole():
    small = _many(500)
    assert results.fit(small) == small


def test_results_over_the_budget_lose_only_routine_messages():
    big = _many(6_000)
    fitted = results.fit(big)
    assert fitted is not None and len(fitted) == len(big)
    assert {r.message for r in fitted} == {""}
    assert [r.key for r in fitted] == [r.key for r in big], "nothing the machine reads is lost"


def test_results_that_cannot_fit_at_all_are_refused():
    assert results.fit(_many(20_000)) is None
