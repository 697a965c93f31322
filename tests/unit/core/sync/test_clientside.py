"""Client-side apply: the three-way patch is the one ``kubectl apply`` sends."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

from tether.core.sync import clientside, patchschema

FIXTURES = pathlib.Path(__file__).resolve().parents[3] / "fixtures" / "clientside"
RECORDED = sorted(path.stem for path in FIXTURES.glob("*.json"))


def _recorded(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def _config_map(data: dict[str, str], labels: dict[str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "cm", "namespace": "ns"}
    if labels:
        metadata["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def _applied(desired: dict[str, Any], **server: Any) -> dict[str, Any]:
    """``desired`` as stored after a client-side apply, with ``server``'s fields."""
    stored = clientside.with_last_applied(desired)
    stored["metadata"] = {**stored["metadata"], "resourceVersion": "7", "uid": "u"}
    return {**stored, **server}


@pytest.mark.parametrize("name", RECORDED)
def test_each_recorded_kubectl_apply_patch_is_reproduced_exactly(name: str) -> None:
    case = _recorded(name)
    schema = patchschema.of_kind(case["document"], case["api_version"], case["kind"])
    assert clientside.patch(case["desired"], case["live"], schema) == case["kubectl_patch"]


def test_built_in_kinds_take_strategic_patches_and_custom_resources_merge_patches() -> None:
    kinds = {name: _recorded(name) for name in RECORDED}
    schemas = {
        name: patchschema.of_kind(case["document"], case["api_version"], case["kind"])
        for name, case in kinds.items()
    }
    assert schemas["custom-resource"] is None
    assert schemas["deployment"] is not None and schemas["service"] is not None
    meta, _ = schemas["service"].field("spec")[1].items_of("ports")
    assert (meta.strategy, meta.merge_key) == ("merge", "port")


def test_a_kind_the_document_does_not_describe_has_no_patch_schema() -> None:
    document = _recorded("service")["document"]
    assert patchschema.of_kind(document, "v1", "Pod") is None
    assert patchschema.of_kind({}, "v1", "Service") is None


def test_the_schema_keeps_only_what_a_patch_reads() -> None:
    case = _recorded("deployment")
    schema = patchschema.of_kind(case["document"], "apps/v1", "Deployment")
    assert schema is not None
    _, spec = schema.field("spec")
    strategy, _ = spec.field("strategy")
    assert strategy.retain_keys and strategy.strategy == ""
    volumes, _ = spec.field("template")[1].field("spec")[1].items_of("volumes")
    assert volumes.strategies == ("merge", "retainKeys") and volumes.merge_key == "name"
    assert "description" not in json.dumps(dict(schema.schemas))


def test_the_annotation_holds_the_object_without_itself_as_kubectl_encodes_it() -> None:
    desired = _config_map({"b": "2", "a": "1"})
    written = clientside.with_last_applied(clientside.with_last_applied(desired))
    annotation = written["metadata"]["annotations"][clientside.LAST_APPLIED]
    assert annotation == (
        '{"apiVersion":"v1","data":{"a":"1","b":"2"},"kind":"ConfigMap",'
        '"metadata":{"annotations":{},"name":"cm","namespace":"ns"}}\n'
    )
    assert clientside.last_applied(written) == json.loads(annotation)


def test_an_unchanged_object_needs_no_patch_whatever_the_server_added() -> None:
    desired = _config_map({"a": "1"}, labels={"team": "ml"})
    live = _applied(desired, immutable=False)
    live["metadata"]["labels"] = {"team": "ml", "added-by": "someone"}
    assert clientside.patch(desired, live, None) == {}


def test_a_field_removed_from_git_is_deleted_and_one_set_by_others_is_kept() -> None:
    before = _config_map({"a": "1", "b": "2"}, labels={"team": "ml", "tier": "web"})
    live = _applied(before)
    live["data"] = {**live["data"], "c": "set by someone else"}
    after = _config_map({"a": "1"}, labels={"team": "ml"})
    body = clientside.patch(after, live, None)
    assert body["data"] == {"b": None}
    assert body["metadata"]["labels"] == {"tier": None}
    assert clientside.last_applied(body) == clientside.last_applied(
        clientside.with_last_applied(after)
    )


def test_without_a_readable_annotation_nothing_is_deleted() -> None:
    live = _applied(_config_map({"a": "1", "b": "2"}))
    live["metadata"]["annotations"][clientside.LAST_APPLIED] = "{not json"
    body = clientside.patch(_config_map({"a": "1"}), live, None)
    assert "data" not in body


def test_a_merged_list_item_without_its_merge_key_cannot_be_patched() -> None:
    case = _recorded("service")
    schema = patchschema.of_kind(case["document"], "v1", "Service")
    desired = json.loads(json.dumps(case["desired"]))
    desired["spec"]["ports"] = [{"targetPort": 80}]
    with pytest.raises(clientside.PatchError, match="merge key 'port'"):
        clientside.patch(desired, case["live"], schema)


def test_a_create_drops_null_values_but_the_annotation_keeps_the_manifest_as_written() -> None:
    desired = {**_config_map({"a": "1"}), "binaryData": None}
    created = clientside.for_create(desired)
    assert "binaryData" not in created
    assert clientside.last_applied(created)["binaryData"] is None
