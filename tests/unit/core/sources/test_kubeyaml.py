"""The Kubernetes YAML 1.1 dialect, parse limits and document rules of ``core.manifests``."""

from __future__ import annotations

import orjson
import pytest
import yaml
from hypothesis import given, settings, strategies as st

from tether.core.sources import kubeyaml
from tether.model.errors import InvalidInputError

DIALECT_CASES = [
    # (YAML scalar, the value Kubernetes decodes) — sigs.k8s.io/yaml on go-yaml v2.
    ("0644", 420),
    ("yes", True),
    ("off", False),
    ("2001-12-14", "2001-12-14"),
    ("2001-12-14T21:59:43.10-05:00", "2001-12-14T21:59:43.10-05:00"),
    ("=", "="),
    ("1:20", "1:20"),
    ("190:20:30", "190:20:30"),
    ("1e3", 1000.0),
    ("1.5", 1.5),
    ("1_000", 1000),
    ("0x1f", 31),
    ("~", None),
    (".inf", float("inf")),
    ("'0644'", "0644"),
]


@pytest.mark.parametrize(("scalar", "expected"), DIALECT_CASES)
def test_scalars_decode_as_kubernetes_decodes_them(scalar, expected):
    [obj] = kubeyaml.parse_yaml(f"kind: X\nv: {scalar}\n", "x.yaml")
    assert obj["v"] == expected
    assert type(obj["v"]) is type(expected)


def test_non_string_keys_become_strings_as_in_json():
    [obj] = kubeyaml.parse_yaml("kind: X\non: 1\n3: a\nnull: b\n", "x.yaml")
    assert obj == {"kind": "X", "true": 1, "3": "a", "null": "b"}


def test_documents_come_back_in_source_order_with_empty_ones_skipped():
    text = "---\nkind: A\n---\n---\nkind: B\n...\n---\nkind: C\n"
    assert [o["kind"] for o in kubeyaml.parse_yaml(text, "x.yaml")] == ["A", "B", "C"]


def test_list_kinds_are_flattened_into_their_items():
    text = (
        "kind: List\nitems:\n- kind: A\n- kind: B\n---\nkind: ConfigMapList\nitems: [{kind: C}]\n"
    )
    assert [o["kind"] for o in kubeyaml.parse_yaml(text, "x.yaml")] == ["A", "B", "C"]


def test_a_document_that_is_not_an_object_is_refused_with_file_and_index():
    with pytest.raises(InvalidInputError, match=r"deploy\.yaml: document 2 is a list"):
        kubeyaml.parse_yaml("kind: A\n---\n- 1\n- 2\n", "deploy.yaml")
    with pytest.raises(InvalidInputError, match=r"document 1 is a string"):
        kubeyaml.parse_yaml("just text\n", "deploy.yaml")


def test_a_list_item_that_is_not_an_object_is_refused():
    with pytest.raises(InvalidInputError, match="has an item that is a number"):
        kubeyaml.parse_yaml("kind: List\nitems: [1]\n", "x.yaml")


def test_invalid_yaml_names_the_file_and_position_but_echoes_no_content():
    with pytest.raises(InvalidInputError) as caught:
        kubeyaml.parse_yaml("kind: A\nsecret-token-xyz: [unclosed\n", "bad.yaml")
    message = str(caught.value)
    assert message.startswith("bad.yaml: invalid YAML")
    assert "line" in message
    assert "secret-token-xyz" not in message


def test_python_tags_are_refused():
    with pytest.raises(InvalidInputError, match="could not determine a constructor"):
        kubeyaml.parse_yaml("kind: A\nx: !!python/object/apply:os.system ['id']\n", "x.yaml")


def billion_laughs(levels: int = 9) -> str:
    lines = ["kind: Bomb", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_parse_time_quickly():
    with pytest.raises(InvalidInputError, match="holds more than 2000000 values"):
        kubeyaml.parse_yaml(billion_laughs(), "bomb.yaml")


@pytest.mark.parametrize("tag", ["", "!!str "], ids=["plain", "tagged"])
def test_a_document_with_too_many_values_is_refused_by_index_whatever_its_style(tag: str):
    # Refused while parsing, before the document is built: a tool's huge output must not
    # become gigabytes of objects first (the tagged stream takes the composer's path).
    small = "kind: A\nmetadata: {name: a}\n"
    big = f"kind: B\nmetadata: {{name: {tag}b}}\ndata:\n" + "".join(
        f"  k{i}: v\n" for i in range(200)
    )
    limits = kubeyaml.Limits(max_nodes=100)
    with pytest.raises(
        InvalidInputError, match=r"^out\.yaml: document 2 holds more than 100 values"
    ):
        kubeyaml.parse_yaml(f"{small}---\n{big}", "out.yaml", limits)
    assert len(kubeyaml.parse_yaml(f"{small}---\n{small}", "out.yaml", limits)) == 2


def test_small_alias_use_is_fine():
    [obj] = kubeyaml.parse_yaml("kind: A\nx: &x {a: 1}\ny: *x\n", "x.yaml")
    assert obj["y"] == {"a": 1}


def test_merge_keys_work_as_in_go_yaml():
    [obj] = kubeyaml.parse_yaml("kind: A\nbase: &b {a: 1, b: 2}\nc:\n  <<: *b\n  b: 3\n", "x.yaml")
    assert obj["c"] == {"a": 1, "b": 3}


def test_a_self_referencing_document_is_refused():
    with pytest.raises(InvalidInputError, match="refers to itself"):
        kubeyaml.parse_yaml("kind: A\nx: &x [*x]\n", "x.yaml")


def test_deep_nesting_is_refused_with_a_clean_error():
    deep = "kind: A\nx: " + "[" * 300 + "]" * 300 + "\n"
    with pytest.raises(InvalidInputError, match="nests deeper than 200 levels"):
        kubeyaml.parse_yaml(deep, "deep.yaml")
    with pytest.raises(InvalidInputError, match=r"deep\.yaml"):
        kubeyaml.parse_yaml("[" * 100_000, "deep.yaml")
    with pytest.raises(InvalidInputError, match=r"deep\.json"):
        kubeyaml.parse_json("[" * 100_000 + "]" * 100_000, "deep.json")


def test_files_over_the_size_limit_are_refused_before_parsing():
    limits = kubeyaml.Limits(max_file_bytes=100)
    with pytest.raises(InvalidInputError, match=r"big\.yaml: 201 bytes exceeds the limit of 100"):
        kubeyaml.parse_yaml("#" * 200 + "\n", "big.yaml", limits)


def test_json_may_hold_an_object_or_an_array_of_objects():
    assert kubeyaml.parse_json('{"kind": "A"}', "a.json") == [{"kind": "A"}]
    assert kubeyaml.parse_json('[{"kind": "A"}, {"kind": "B"}]', "a.json")[1] == {"kind": "B"}
    with pytest.raises(InvalidInputError, match=r"a\.json: document 2 is a number"):
        kubeyaml.parse_json('[{"kind": "A"}, 3]', "a.json")
    with pytest.raises(InvalidInputError, match=r"a\.json: invalid JSON"):
        kubeyaml.parse_json("{", "a.json")


def test_a_stream_is_read_as_json_or_yaml_by_its_content():
    assert kubeyaml.parse_stream(b'{"kind": "A"}', "out") == [{"kind": "A"}]
    assert kubeyaml.parse_stream(b"{kind: A}\n", "out") == [{"kind": "A"}]
    assert kubeyaml.parse_stream(b"kind: A\n---\nkind: B\n", "out")[1] == {"kind": "B"}


def test_explicit_tags_without_a_json_form_become_json_values():
    [obj] = kubeyaml.parse_yaml(
        "kind: A\nt: !!timestamp 2001-01-01\nb: !!binary aGk=\ns: !!set {x, y}\n", "x.yaml"
    )
    assert obj == {"kind": "A", "t": "2001-01-01", "b": "aGk=", "s": {"x": None, "y": None}}


@pytest.mark.parametrize("value", ["abc", '""', "''"])
def test_an_explicit_tag_that_does_not_convert_is_a_clean_error(value: str):
    with pytest.raises(InvalidInputError, match=r"x\.yaml: document 2: invalid value"):
        kubeyaml.parse_yaml(f"kind: A\n---\nkind: B\nn: !!int {value}\n", "x.yaml")


# Strings without digits: PyYAML's dumper leaves `1e3` unquoted, which go-yaml (and so
# K8sLoader) reads as a float; that dialect gap is covered by DIALECT_CASES instead.
WORDS = st.text(alphabet="abcXYZ -_.:/@", max_size=12)
JSON_SCALARS = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | WORDS
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(WORDS, inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(WORDS, JSON_VALUES, max_size=4))
def test_any_json_object_dumped_as_yaml_parses_back_unchanged(obj):
    obj = {**obj, "kind": "X"}
    text = yaml.safe_dump(obj, sort_keys=False)
    assert kubeyaml.parse_yaml(text, "x.yaml") == [obj]


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!?|>'\"#\n ,0123.x=~")), max_size=80))
def test_arbitrary_text_parses_to_objects_or_fails_with_a_clean_error(text):
    try:
        objects = kubeyaml.parse_yaml(text, "fuzz.yaml")
    except InvalidInputError as err:
        assert str(err).startswith("fuzz.yaml")
    else:
        assert all(isinstance(o, dict) for o in objects)
        orjson.dumps(objects)  # everything parsed has a JSON form


TOOL_OUTPUT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app.kubernetes.io/name: x
  name: x
  namespace: kubeflow
spec:
  replicas: 1
  template:
    spec:
      containers:
      - args:
        - --port=8080
        env:
        - name: ENABLED
          value: "true"
        image: ghcr.io/x/y:v1.0
        resources:
          limits:
            cpu: 500m
            memory: 1.5Gi
      volumes:
      - configMap:
          defaultMode: 0644
        name: config
---
apiVersion: v1
data:
  script.sh: |
    #!/bin/sh
    echo "on: yes"
kind: ConfigMap
metadata:
  name: y
optional: ~
ratio: 0.5
enabled: yes
"""


def test_tool_output_is_built_from_parser_events_without_the_general_path(monkeypatch):
    def general(*args):
        raise AssertionError("plain tool output went through the general path")

    monkeypatch.setattr(kubeyaml, "_parse_composed", general)
    deployment, config = kubeyaml.parse_yaml(TOOL_OUTPUT, "out")
    assert deployment["spec"]["template"]["spec"]["volumes"][0]["configMap"]["defaultMode"] == 420
    assert config["data"]["script.sh"] == '#!/bin/sh\necho "on: yes"\n'
    assert (config["optional"], config["ratio"], config["enabled"]) == (None, 0.5, True)


def outcome(parse, text):
    try:
        return orjson.dumps(parse(text, "x.yaml", kubeyaml.DEFAULT_LIMITS))
    except InvalidInputError as err:
        return str(err)


@settings(max_examples=100, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!?|>'\"#\n ,0123.x=~<")), max_size=80)
    | st.builds(
        lambda obj: yaml.safe_dump({**obj, "kind": "X"}), st.dictionaries(WORDS, JSON_VALUES)
    )
)
def test_the_event_path_gives_the_general_paths_objects_and_errors(text):
    assert outcome(kubeyaml.parse_yaml, text) == outcome(kubeyaml._parse_composed, text)


@pytest.mark.parametrize(
    "text",
    [
        *(f"kind: X\nv: {scalar}\n" for scalar, _ in DIALECT_CASES),
        "kind: X\non: 1\n3: a\nnull: b\n",
        "kind: X\n1: a\ntrue: b\n",
        "kind: X\na: 1\na: {b: 2}\n",
        "kind: X\nb: &b {a: 1}\nc:\n  <<: *b\n",
        "kind: X\nv: 0b_\n",
        "kind: List\nitems: [{kind: A}, 2]\n",
        "kind: A\n---\n[1]\n",
        "--- !!map\nkind: A\n",
        "kind: X\nv: !!str 1\n",
        billion_laughs(3),
    ],
)
def test_streams_the_event_path_leaves_alone_parse_as_before(text):
    assert outcome(kubeyaml.parse_yaml, text) == outcome(kubeyaml._parse_composed, text)
