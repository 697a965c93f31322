"""Properties of the comparison over generated objects."""

from __future__ import annotations

from typing import Any

import jsonpatch
from hypothesis import given, settings, strategies as st

from tether.core.diff import diff, managedfields, normalize, secrets

KINDS = [
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("v1", "Endpoints"),
    ("example.com/v1", "Widget"),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
]

keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz~/.-", min_size=1, max_size=6)
scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=5)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=12,
)
string_maps = st.dictionaries(keys, st.text(max_size=5), max_size=3)


@st.composite
def manifests(draw: st.DrawFn) -> dict[str, Any]:
    api_version, kind = draw(st.sampled_from(KINDS))
    metadata: dict[str, Any] = {"name": draw(st.sampled_from(["a", "b"])), "namespace": "shop"}
    for field in ("labels", "annotations"):
        if draw(st.booleans()):
            metadata[field] = draw(string_maps)
    if draw(st.booleans()):
        metadata["resourceVersion"] = str(draw(st.integers(1, 9)))
        metadata["managedFields"] = [{"manager": "x", "fieldsV1": {"f:spec": {}}}]
    obj: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": metadata}
    body = draw(
        st.dictionaries(
            st.sampled_from(["spec", "data", "stringData", "status", "rules", "subsets", "type"]),
            json_values,
            max_size=4,
        )
    )
    obj.update(body)
    if kind == "Secret" and draw(st.booleans()):
        obj["data"] = draw(string_maps)
    return obj


@settings(max_examples=40, deadline=None)
@given(manifests())
def test_an_object_compared_with_itself_is_not_modified(obj: dict[str, Any]):
    assert not diff.compare(obj, obj).modified
    same = diff.compare(obj, obj, predicted=obj)
    assert not same.modified and same.patch == () and same.text == ""


@settings(max_examples=40, deadline=None)
@given(manifests(), st.sampled_from(list(normalize.StatusField)), st.booleans())
def test_normalisation_is_idempotent(
    obj: dict[str, Any], status: normalize.StatusField, aggregated: bool
):
    options = normalize.NormalizeOptions(status, aggregated)
    once = normalize.normalize(obj, options)
    assert normalize.normalize(once, options) == once


@settings(max_examples=40, deadline=None)
@given(manifests(), manifests())
def test_the_patch_turns_normalized_live_into_normalized_predicted(
    live: dict[str, Any], predicted: dict[str, Any]
):
    predicted = {**predicted, "apiVersion": live["apiVersion"], "kind": live["kind"]}
    result = diff.compare(predicted, live, predicted=predicted)
    assert result.normalized_live is not None and result.predicted_live is not None
    patched = jsonpatch.apply_patch(result.normalized_live, list(result.patch))
    assert normalize.canonical_json(patched) == normalize.canonical_json(result.predicted_live)
    assert result.modified == bool(result.patch)


@settings(max_examples=40, deadline=None)
@given(string_maps, string_maps)
def test_masked_secrets_differ_exactly_where_the_values_differ(
    old: dict[str, Any], new: dict[str, Any]
):
    live = {"apiVersion": "v1", "kind": "Secret", "data": old}
    desired = {"apiVersion": "v1", "kind": "Secret", "data": new}
    masked_live, masked_desired = secrets.mask_pair(live, desired)
    assert masked_live is not None and masked_desired is not None
    for key in old.keys() & new.keys():
        assert (masked_live["data"][key] == masked_desired["data"][key]) == (old[key] == new[key])
    assert all(
        set(v) == {"+"} for v in (*masked_live["data"].values(), *masked_desired["data"].values())
    )


keyed_tokens = (
    st.builds(lambda n: f"f:{n}", keys)
    | st.builds(
        lambda n, v: f'k:{{"{n}":{v}}}', st.sampled_from(["name", "port"]), st.integers(0, 3)
    )
    | st.builds(lambda v: f'v:"{v}"', keys)
)
"""Elements that name items by content; positions (``i:``) shift when items go."""


def tries(elements: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.recursive(
        st.just({}),
        lambda inner: st.dictionaries(elements | st.just("."), inner, min_size=1, max_size=3),
        max_leaves=10,
    )


@settings(max_examples=40, deadline=None)
@given(tries(keyed_tokens | st.builds(lambda i: f"i:{i}", st.integers(0, 3))))
def test_fields_v1_paths_round_trip_through_from_paths(doc: dict[str, Any]):
    listed = list(managedfields.paths(managedfields.parse(doc)))
    assert set(managedfields.paths(managedfields.from_paths(listed))) == set(listed)


@settings(max_examples=40, deadline=None)
@given(tries(keyed_tokens), json_values)
def test_removing_owned_fields_twice_changes_nothing_more(doc: dict[str, Any], value: Any):
    fieldset = managedfields.parse({"f:spec": doc})
    once = managedfields.remove({"spec": value}, fieldset)
    assert managedfields.remove(once, fieldset) == once
