import pytest

from tether.model import operation
from tether.model.operation import ResourceResult
from tether.model.resources import ResourceKey


def test_a_result_is_keyed_by_resource_and_phase() -> None:
    result = ResourceResult(
        group="apps", kind="Deployment", namespace="a", name="b", sync_phase="Sync"
    )
    assert result.result_key == "apps/Deployment/a/b:Sync"
    assert ResourceResult(kind="Namespace", name="a").result_key == "/Namespace//a:"


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


def test_results_and_statuses_give_resource_keys() -> None:
    result = ResourceResult(group="", kind="Service", namespace="a", name="b")
    assert result.key == ResourceKey("", "Service", "a", "b")
