"""Parameter sets of the generators that need no I/O to decide, and the selector over them.

A parameter set is a mapping. In Go-template mode it is nested (``.path.basename``); in the
legacy mode it is flat with dotted keys (``path.basename``) and string values, as Argo CD's
fasttemplate form expects. Each function takes ``go`` and returns the form the set uses.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import yaml

from tether.core.app import selectors
from tether.model.errors import InvalidInputError

Params = dict[str, Any]

CLUSTER_SECRET_LABEL = "argocd.argoproj.io/secret-type"
"""The label marking a Secret as a destination cluster (value ``cluster``)."""

IN_CLUSTER_NAME = "in-cluster"
IN_CLUSTER_SERVER = "https://kubernetes.default.svc"

_NOT_DNS = re.compile(r"[^a-z0-9.-]+")
_SELECTOR_OPERATORS: dict[str, selectors.Operator] = {
    # matchExpressions operators and the label-selector operator each is.
    "In": "in",
    "NotIn": "notin",
    "Exists": "exists",
    "DoesNotExist": "!",
}


def normalize(text: str) -> str:
    """A name usable in a DNS-1123 subdomain: lower case, other characters become ``-``."""
    return _NOT_DNS.sub("-", text.lower()).strip("-.")[:253]


def flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested parameters as flat dotted keys with string values (lists keep ``[n]`` indices)."""
    out: dict[str, str] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping):
            out.update(flatten(item, f"{name}."))
        elif isinstance(item, list):
            for index, element in enumerate(item):
                if isinstance(element, Mapping):
                    out.update(flatten(element, f"{name}[{index}]."))
                else:
                    out[f"{name}[{index}]"] = _text(element)
        else:
            out[name] = _text(item)
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{where}: expected an object, got {type(value).__name__}")
    return value


# ---- list ---------------------------------------------------------------------------------------


def list_params(spec: Mapping[str, Any], *, go: bool) -> list[Params]:
    """The ``list`` generator: ``elements``, or ``elementsYaml`` (a YAML list of objects)."""
    elements: list[Any] = list(spec.get("elements") or [])
    text = spec.get("elementsYaml")
    if text:
        try:
            parsed = yaml.safe_load(str(text))
        except yaml.YAMLError as err:
            raise InvalidInputError(f"list generator: elementsYaml is not YAML: {err}") from None
        if not isinstance(parsed, list):
            raise InvalidInputError("list generator: elementsYaml must be a list of objects")
        elements.extend(parsed)
    out: list[Params] = []
    for index, element in enumerate(elements):
        item = dict(_mapping(element, f"list generator: element {index}"))
        out.append(item if go else flatten(item))
    return out


# ---- clusters -----------------------------------------------------------------------------------


def selector_of(spec: Mapping[str, Any] | None, where: str) -> selectors.Selector:
    """A Kubernetes ``LabelSelector`` (matchLabels, matchExpressions) as a selector."""
    if not spec:
        return selectors.Selector()
    requirements: list[selectors.Requirement] = []
    for key, value in dict(_mapping(spec.get("matchLabels") or {}, where)).items():
        requirements.append(selectors.Requirement(str(key), "=", frozenset({_text(value)})))
    for expression in spec.get("matchExpressions") or []:
        expr = _mapping(expression, where)
        operator = _SELECTOR_OPERATORS.get(str(expr.get("operator", "")))
        if operator is None:
            raise InvalidInputError(
                f"{where}: unknown selector operator {expr.get('operator')!r}"
                f" (one of {', '.join(_SELECTOR_OPERATORS)})"
            )
        values = frozenset(_text(v) for v in expr.get("values") or [])
        requirements.append(selectors.Requirement(str(expr.get("key", "")), operator, values))
    return selectors.Selector(tuple(requirements))


def is_empty_selector(spec: Mapping[str, Any] | None) -> bool:
    """Whether a selector has no requirement at all (it selects everything)."""
    return not spec or not (spec.get("matchLabels") or spec.get("matchExpressions"))


def clusters_params(
    spec: Mapping[str, Any], secrets: Iterable[Mapping[str, Any]], *, go: bool
) -> list[Params]:
    """The ``clusters`` generator over the control plane's Secrets (any; it picks cluster ones).

    In-cluster is added, as in Argo CD, only when the selector is empty and no Secret names it.
    ``values`` are added under ``values``; the caller templates them with the set's params.
    With ``flatList`` there is one set, ``clusters``: the list of every cluster's parameters.
    """
    chosen = selector_of(spec.get("selector"), "clusters generator selector")
    values = {str(k): _text(v) for k, v in dict(spec.get("values") or {}).items()}
    out: list[Params] = []
    servers: set[str] = set()
    for secret in secrets:
        meta = secret.get("metadata") or {}
        labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
        if labels.get(CLUSTER_SECRET_LABEL) != "cluster":
            continue
        data = secret.get("stringData") or {}
        server = str(data.get("server", ""))
        servers.add(server)
        if not chosen.matches(labels):
            continue
        name = str(data.get("name") or server)
        annotations = {str(k): str(v) for k, v in (meta.get("annotations") or {}).items()}
        item: Params = {
            "name": name,
            "nameNormalized": normalize(name),
            "server": server,
            "project": str(data.get("project", "")),
            "metadata": {"labels": labels, "annotations": annotations},
            "values": dict(values),
        }
        out.append(item)
    if is_empty_selector(spec.get("selector")) and IN_CLUSTER_SERVER not in servers:
        local: Params = {
            "name": IN_CLUSTER_NAME,
            "nameNormalized": IN_CLUSTER_NAME,
            "server": IN_CLUSTER_SERVER,
            "project": "",
            "metadata": {"labels": {}, "annotations": {}},
            "values": dict(values),
        }
        out.insert(0, local)
    if spec.get("flatList") is True:  # one set for all clusters: {clusters: [...]}
        return [{"clusters": out} if go else flatten({"clusters": out})]
    return [item if go else flatten(item) for item in out]


# ---- git ----------------------------------------------------------------------------------------


def path_params(path: str, *, go: bool, file: bool, prefix: str = "") -> Params:
    """The ``path`` parameters of a Git directory or file (``prefix``: ``pathParamPrefix``)."""
    directory = posixpath.dirname(path) if file else path
    segments = [s for s in directory.split("/") if s]
    base = posixpath.basename(directory)
    nested: Params = {
        "path": directory,
        "basename": base,
        "basenameNormalized": normalize(base),
        "segments": segments,
    }
    if file:
        nested["filename"] = posixpath.basename(path)
        nested["filenameNormalized"] = normalize(posixpath.basename(path))
    if go:
        return {prefix: {"path": nested}} if prefix else {"path": nested}
    key = f"{prefix}.path" if prefix else "path"
    flat = {key: directory}
    for name, value in nested.items():
        if name not in ("path", "segments"):
            flat[f"{key}.{name}"] = str(value)
    flat.update({f"{key}[{i}]": s for i, s in enumerate(segments)})
    return flat


def git_directories(
    spec: Mapping[str, Any], directories: Sequence[str], *, go: bool
) -> list[Params]:
    """The ``git`` generator's ``directories``: each directory matched and not excluded.

    ``directories`` are every directory of the checkout, relative, ``/``-separated. An excluding
    entry wins whatever its order; directories with a dot-named segment never match.
    """
    includes: list[str] = []
    excludes: list[str] = []
    for entry in spec.get("directories") or []:
        item = _mapping(entry, "git generator directories")
        pattern = str(item.get("path", "")).strip("/")
        (excludes if item.get("exclude") is True else includes).append(pattern)
    present = set(directories)
    for pattern in includes:
        if not _is_glob(pattern) and pattern not in present:
            raise InvalidInputError(
                f"git generator: directory {pattern!r} is not in the repository"
            )
    prefix = str(spec.get("pathParamPrefix") or "")
    out: list[Params] = []
    for directory in sorted(directories):
        if any(s.startswith(".") for s in directory.split("/")):
            continue
        if not any(glob_match(p, directory) for p in includes):
            continue
        if any(glob_match(p, directory) for p in excludes):
            continue
        out.append(path_params(directory, go=go, file=False, prefix=prefix))
    return out


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def literal_missing(pattern: str, paths: Sequence[str]) -> bool:
    """Whether ``pattern`` names one path literally and it is absent (gone, not unmatched)."""
    return not _is_glob(pattern) and pattern not in paths


def glob_match(pattern: str, path: str) -> bool:
    """Whether ``path`` matches a glob: ``*``, ``?`` and ``[...]`` as Go's ``path.Match``.

    ``**`` also matches any number of segments, as Argo CD's file patterns allow.
    """
    regex = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            regex.append("(?:.*/)?")
            i += 2
        elif pattern.startswith("**", i):
            regex.append(".*")
            i += 1
        elif char == "*":
            regex.append("[^/]*")
        elif char == "?":
            regex.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                return False
            body = pattern[i + 1 : end].replace("\\", "\\\\")
            regex.append("[" + ("^" + body[1:] if body.startswith("^") else body) + "]")
            i = end
        else:
            regex.append(re.escape(char))
        i += 1
    try:
        return re.fullmatch("".join(regex), path) is not None
    except re.error:
        raise InvalidInputError(f"git generator: path pattern {pattern!r} is not a glob") from None


def git_file(path: str, text: str, spec: Mapping[str, Any], *, go: bool) -> list[Params]:
    """The ``git`` generator's ``files``: one file's object, or each object of its array."""
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise InvalidInputError(f"git generator: {path} is not JSON or YAML: {err}") from None
    items = parsed if isinstance(parsed, list) else [parsed]
    prefix = str(spec.get("pathParamPrefix") or "")
    out: list[Params] = []
    for index, item in enumerate(items):
        body = dict(_mapping(item, f"git generator: {path} item {index}"))
        params = body if go else flatten(body)
        params.update(path_params(path, go=go, file=True, prefix=prefix))
        out.append(params)
    return out


# ---- the post-selector --------------------------------------------------------------------------


def select(params: Sequence[Params], spec: Mapping[str, Any] | None) -> list[Params]:
    """The parameter sets a generator's ``selector`` keeps (matched on the flat form)."""
    if is_empty_selector(spec):
        return list(params)
    chosen = selector_of(spec, "generator selector")
    return [p for p in params if chosen.matches(flatten(p))]
