"""The fieldsV1 parser on managedFields shapes the API server writes, and field removal."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tether.core.diff import managedfields as mf
from tether.core.diff.managedfields import Field, Index, Key, Value

# As written by kube-apiserver 1.36 for `kubectl apply --server-side` of a Deployment.
DEPLOYMENT_APPLY = json.loads("""
{
  "f:metadata": {"f:labels": {"f:app": {}}, "f:annotations": {".": {}, "f:team": {}}},
  "f:spec": {
    "f:replicas": {},
    "f:selector": {},
    "f:template": {
      "f:metadata": {"f:labels": {"f:app": {}}},
      "f:spec": {
        "f:containers": {
          "k:{\\"name\\":\\"web\\"}": {
            ".": {},
            "f:image": {},
            "f:name": {},
            "f:ports": {
              "k:{\\"containerPort\\":8080,\\"protocol\\":\\"TCP\\"}": {
                ".": {}, "f:containerPort": {}, "f:protocol": {}
              }
            }
          }
        }
      }
    }
  }
}
""")

# The kube-controller-manager's status update, and a finalizer set (v:) from another client.
STATUS_UPDATE: dict[str, Any] = {
    "f:status": {"f:conditions": {'k:{"type":"Available"}': {".": {}, "f:status": {}}}}
}
FINALIZERS: dict[str, Any] = {
    "f:metadata": {"f:finalizers": {".": {}, 'v:"example.com/protect"': {}}}
}
POSITIONAL: dict[str, Any] = {"f:spec": {"f:args": {"i:1": {}}}}

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "web",
        "labels": {"app": "web", "other": "x"},
        "annotations": {"team": "shop"},
        "finalizers": ["example.com/protect", "example.com/keep"],
        "managedFields": [
            {
                "manager": "kubectl",
                "operation": "Apply",
                "fieldsType": "FieldsV1",
                "fieldsV1": DEPLOYMENT_APPLY,
            },
            {
                "manager": "kube-controller-manager",
                "operation": "Update",
                "fieldsType": "FieldsV1",
                "fieldsV1": STATUS_UPDATE,
                "subresource": "status",
            },
            {"manager": "protector", "operation": "Update", "fieldsV1": FINALIZERS},
            {"manager": "legacy", "operation": "Update", "fieldsType": "FieldsV2", "fieldsV1": {}},
        ],
    },
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "args": ["a", "b", "c"],
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [
                    {
                        "name": "web",
                        "image": "web:1",
                        "ports": [
                            {"containerPort": 8080, "protocol": "TCP"},
                            {"containerPort": 9090, "protocol": "TCP"},
                        ],
                    },
                    {"name": "sidecar", "image": "side:1"},
                ]
            },
        },
    },
    "status": {
        "conditions": [
            {"type": "Available", "status": "True"},
            {"type": "Progressing", "status": "True"},
        ]
    },
}


def test_parsing_yields_every_owned_path_parents_first():
    paths = list(mf.paths(mf.parse(DEPLOYMENT_APPLY)))
    web = Key((("name", "web"),))
    port = Key((("containerPort", 8080), ("protocol", "TCP")))
    containers = (Field("spec"), Field("template"), Field("spec"), Field("containers"))
    assert (Field("metadata"), Field("labels"), Field("app")) in paths
    assert (Field("metadata"), Field("annotations")) in paths  # "." marks the map itself
    assert (*containers, web) in paths
    assert (*containers, web, Field("ports"), port, Field("protocol")) in paths
    assert paths.index((*containers, web)) < paths.index((*containers, web, Field("image")))
    assert (Field("spec"),) not in paths  # a node without "." is only a way through


def test_value_and_index_elements_parse():
    assert list(mf.paths(mf.parse(FINALIZERS)))[-1] == (
        Field("metadata"),
        Field("finalizers"),
        Value("example.com/protect"),
    )
    assert list(mf.paths(mf.parse(POSITIONAL))) == [(Field("spec"), Field("args"), Index(1))]
    assert mf.parse_element('v:{"a":[1,2]}') == Value((("a", (1, 2)),))
    assert str(Field("spec")) == ".spec"
    assert str(Key((("name", "web"),))) == '[name="web"]'
    assert str(Value("x")) == '[="x"]' and str(Index(2)) == "[2]"


@pytest.mark.parametrize(
    "token",
    ["spec", "x:spec", "k:[1]", "k:{bad", "i:one", "v:{"],
)
def test_malformed_elements_are_refused(token: str):
    with pytest.raises(mf.FieldsV1Error):
        mf.parse_element(token)


def test_a_node_that_is_not_an_object_is_refused():
    with pytest.raises(mf.FieldsV1Error, match="must be an object"):
        mf.parse({"f:spec": []})


def test_from_paths_and_paths_round_trip_and_union_merges():
    fieldset = mf.parse(DEPLOYMENT_APPLY)
    assert set(mf.paths(mf.from_paths(mf.paths(fieldset)))) == set(mf.paths(fieldset))
    merged = mf.union([mf.parse(FINALIZERS), mf.parse(POSITIONAL)])
    assert len(list(mf.paths(merged))) == 3
    assert mf.EMPTY.empty and not merged.empty


def test_owned_by_reads_only_the_listed_managers_in_fields_v1_format():
    owned = mf.owned_by(DEPLOYMENT, {"kube-controller-manager", "legacy"})
    assert [str(p[-1]) for p in mf.paths(owned)] == ['[type="Available"]', ".status"]
    assert mf.owned_by({"metadata": {}}, {"x"}).empty


def test_removing_the_controller_fields_leaves_the_other_list_items():
    out = mf.remove(DEPLOYMENT, mf.owned_by(DEPLOYMENT, {"kube-controller-manager"}))
    assert out["status"]["conditions"] == [{"type": "Progressing", "status": "True"}]
    assert DEPLOYMENT["status"]["conditions"][0]["type"] == "Available"  # input untouched


def test_removing_apply_fields_keeps_unowned_siblings():
    out = mf.remove(DEPLOYMENT, mf.owned_by(DEPLOYMENT, {"kubectl"}))
    assert out["metadata"]["labels"] == {"other": "x"}
    assert "annotations" not in out["metadata"]
    assert "replicas" not in out["spec"]
    containers = out["spec"]["template"]["spec"]["containers"]
    assert containers == [{"name": "sidecar", "image": "side:1"}]


def test_removing_set_values_and_positions():
    out = mf.remove(DEPLOYMENT, mf.union([mf.parse(FINALIZERS), mf.parse(POSITIONAL)]))
    assert "finalizers" not in out["metadata"]  # "." owns the whole list
    assert out["spec"]["args"] == ["a", "c"]
    only_value = mf.from_paths(
        [(Field("metadata"), Field("finalizers"), Value("example.com/keep"))]
    )
    assert mf.remove(DEPLOYMENT, only_value)["metadata"]["finalizers"] == ["example.com/protect"]


def test_removing_paths_the_object_lacks_changes_nothing():
    absent = mf.from_paths(
        [
            (Field("spec"), Field("nothing")),
            (Field("spec"), Field("args"), Index(7)),
            (Field("spec"), Field("replicas"), Field("deeper")),
            (Field("spec"), Field("args"), Field("not-a-map")),
        ]
    )
    assert mf.remove(DEPLOYMENT, absent) == DEPLOYMENT


def test_lookup_follows_every_element_kind():
    web = Key((("name", "web"),))
    path = (Field("spec"), Field("template"), Field("spec"), Field("containers"), web)
    assert mf.lookup(DEPLOYMENT, (*path, Field("image"))) == (True, "web:1")
    assert mf.lookup(DEPLOYMENT, (Field("spec"), Field("args"), Index(2))) == (True, "c")
    assert mf.lookup(
        DEPLOYMENT, (Field("metadata"), Field("finalizers"), Value("example.com/keep"))
    )[0]
    assert mf.lookup(DEPLOYMENT, (Field("spec"), Field("nope"))) == (False, None)
    assert mf.lookup(DEPLOYMENT, (Field("spec"), Index(0))) == (False, None)
    assert mf.lookup(DEPLOYMENT, (Field("spec"), Field("args"), Index(9))) == (False, None)


def test_graft_copies_only_the_listed_fields_and_matches_list_items():
    source: dict[str, Any] = {
        "spec": {
            "ports": [{"port": 80, "protocol": "TCP", "name": "http", "extra": 1}],
            "finalizers": ["a", "b"],
            "args": ["x", "y"],
            "atomic": {"k": "v"},
        }
    }
    fieldset = mf.parse(
        {
            "f:spec": {
                "f:ports": {'k:{"port":80,"protocol":"TCP"}': {"f:name": {}}},
                "f:finalizers": {'v:"b"': {}},
                "f:args": {"i:1": {}},
                "f:atomic": {},
                "f:absent": {},
            }
        }
    )
    target: dict[str, Any] = {
        "spec": {"ports": [{"port": 80, "protocol": "TCP", "name": "old"}], "args": ["q", "r"]}
    }
    out = mf.graft(target, source, fieldset)
    assert out["spec"]["ports"] == [{"port": 80, "protocol": "TCP", "name": "http"}]
    assert out["spec"]["finalizers"] == ["b"]
    assert out["spec"]["args"] == ["q", "y"]
    assert out["spec"]["atomic"] == {"k": "v"}
    assert "absent" not in out["spec"]
    assert target["spec"]["ports"][0]["name"] == "old"  # input untouched


def test_graft_into_nothing_builds_the_containers_and_keeps_key_fields():
    source = {"items": [{"id": 1, "v": "a", "w": "b"}]}
    fieldset = mf.parse({"f:items": {'k:{"id":1}': {"f:v": {}}}})
    assert mf.graft(None, source, fieldset) == {"items": [{"v": "a", "id": 1}]}
    assert mf.graft({"x": 1}, 5, fieldset) == 5
