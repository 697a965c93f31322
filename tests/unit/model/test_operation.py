import pydantic
import pytest

from tether.model import operation
from tether.model.operation import ResourceResult, SyncOperationResult
from tether.model.resources import ResourceKey
from tether.model.status import HookPhase, ResultCode, SyncPhase


def test_a_result_is_keyed_by_resource_and_phase() -> None:
    result = ResourceResult(ResourceKey("apps", "Deployment", "a", "b"), SyncPhase.SYNC)
    assert result.result_key == "apps/Deployment/a/b:Sync"
    namespace = ResourceResult(ResourceKey("", "Namespace", "", "a"), SyncPhase.PRE_SYNC)
    assert namespace.result_key == "/Namespace//a:PreSync"


def test_a_result_reads_and_writes_argo_cds_json() -> None:
    wire = {
        "group": "apps",
        "version": "v1",
        "kind": "Deployment",
        "namespace": "a",
        "name": "b",
        "status": "Synced",
        "message": "configured",
        "hookPhase": "Running",
        "syncPhase": "Sync",
    }
    read = SyncOperationResult.model_validate({"revision": "abc", "resources": [wire]})
    assert read.resources == [
        ResourceResult(
            ResourceKey("apps", "Deployment", "a", "b"),
            SyncPhase.SYNC,
            ResultCode.SYNCED,
            HookPhase.RUNNING,
            "configured",
            version="v1",
        )
    ]
    assert read.to_manifest()["resources"] == [wire]


def test_a_result_with_a_status_argo_cd_does_not_have_is_refused_naming_the_entry() -> None:
    with pytest.raises(pydantic.ValidationError, match=r"resources\.0\n.*'Sort of' is not a valid"):
        SyncOperationResult.model_validate({"resources": [{"status": "Sort of"}]})


def test_a_partial_sync_names_its_resources() -> None:
    sync = operation.SyncOperation.model_validate({"resources": [{"kind": "Service", "name": "x"}]})
    assert sync.is_partial
    assert not operation.SyncOperation().is_partial


@pytest.mark.parametrize(
    ("selection", "key", "selected"),
    [
        ({"group": "apps", "kind": "Deployment", "name": "web"},
         ("apps", "Deployment", "a", "web"), True),
        ({"group": "apps", "kind": "Deployment", "name": "web", "namespace": "b"},
         ("apps", "Deployment", "a", "web"), False),
        ({"kind": "ConfigMap", "name": "web"}, ("", "ConfigMap", "a", "web"), True),
        ({"kind": "ConfigMap", "name": "web"}, ("", "ConfigMap", "a", "api"), False),
        ({"kind": "Deployment", "name": "web"}, ("apps", "Deployment", "a", "web"), False),
    ],
)  # fmt: skip
def test_a_partial_sync_selects_resources_by_identity(
    selection: dict[str, str], key: tuple[str, str, str, str], selected: bool
) -> None:
    resource = operation.SyncOperationResource.model_validate(selection)
    assert resource.selects(ResourceKey(*key)) is selected


def test_a_result_without_a_phase_reads_as_the_sync_phase() -> None:
    read = SyncOperationResult.model_validate({"resources": [{"kind": "Service", "name": "b"}]})
    assert read.resources == [ResourceResult(ResourceKey("", "Service", "", "b"), SyncPhase.SYNC)]


@pytest.mark.parametrize(
    ("strategy", "forced", "apply"),
    [
        ({}, False, False),
        ({"hook": {}}, False, False),
        ({"hook": {"force": True}}, True, False),
        ({"apply": {}}, False, True),
        ({"apply": {"force": True}}, True, True),
    ],
)
def test_force_is_read_from_the_chosen_strategy_apply_or_hook(
    strategy: dict[str, object], forced: bool, apply: bool
) -> None:
    sync = operation.SyncOperation.model_validate({"syncStrategy": strategy})
    assert (sync.forced, sync.uses_apply_strategy) == (forced, apply)
