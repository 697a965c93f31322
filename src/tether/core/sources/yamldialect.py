"""Kubernetes' YAML 1.1 dialect: the loader every manifest is read with, and how it differs.

``K8sLoader`` is PyYAML's C safe loader with go-yaml v2's resolvers (what Kubernetes and Argo CD
decode with); ``DIALECT_CHANGES`` says each change and why. ``kubeyaml`` parses with it.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"

DIALECT_CHANGES: dict[str, str] = {
    # What K8sLoader changes from PyYAML's YAML 1.1 resolvers, and why (Kubernetes: go-yaml v2).
    "tag:yaml.org,2002:timestamp": "dropped: go-yaml v2 keeps `2001-12-14` a string",
    "tag:yaml.org,2002:value": "dropped: `=` is a plain string in go-yaml v2, not an error",
    INT_TAG: "no sexagesimal: `1:20` stays a string",
    FLOAT_TAG: "no sexagesimal; `1e3` is a float as in go-yaml v2",
}

_INT_PATTERN = re.compile(
    r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0[0-7_]+
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0x[0-9a-fA-F_]+)$""",
    re.X,
)
_FLOAT_PATTERN = re.compile(
    r"""^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
    |[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)


def _dialect_resolvers() -> dict[Any, list[tuple[str, re.Pattern[str]]]]:
    resolvers: dict[Any, list[tuple[str, re.Pattern[str]]]] = {}
    for first, entries in yaml.CSafeLoader.yaml_implicit_resolvers.items():
        kept: list[tuple[str, re.Pattern[str]]] = []
        for tag, pattern in entries:
            if tag in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value"):
                continue
            if tag == INT_TAG:
                pattern = _INT_PATTERN
            elif tag == FLOAT_TAG:
                pattern = _FLOAT_PATTERN
            kept.append((tag, pattern))
        if kept:
            resolvers[first] = kept
    return resolvers


class K8sLoader(yaml.CSafeLoader):
    """PyYAML's C safe loader tuned to the YAML 1.1 dialect Kubernetes and Argo CD decode.

    ``defaultMode: 0644`` is 420 and ``yes`` is true (YAML 1.1), but timestamps, ``=`` and
    sexagesimal numbers stay strings, as in go-yaml v2. Duplicate keys: the last one wins.
    """

    yaml_implicit_resolvers = _dialect_resolvers()


def _as_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


EXPLICIT_TAGS_AS_JSON: dict[str, Any] = {
    # Explicit tags whose PyYAML values have no JSON form; Kubernetes objects must be JSON.
    "tag:yaml.org,2002:timestamp": _as_text,  # `!!timestamp 2001-12-14` stays the string
    "tag:yaml.org,2002:binary": _as_text,  # the base64 text, as it would appear in JSON
    "tag:yaml.org,2002:set": yaml.SafeLoader.construct_yaml_map,  # {a, b} is {a: null, b: null}
}
for _tag, _constructor in EXPLICIT_TAGS_AS_JSON.items():
    K8sLoader.add_constructor(_tag, _constructor)
