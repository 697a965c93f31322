"""Parse rendered YAML and JSON into Kubernetes objects, in Kubernetes' YAML 1.1 dialect.

Reads with the dialect's loader (``yamldialect.K8sLoader``); owns the parse limits that stop
alias bombs, deep nesting and oversized input, and the rules that turn a document stream into a
flat list of objects.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from typing import Any

import orjson
import yaml

from tether.core.sources.yamldialect import FLOAT_TAG, INT_TAG, K8sLoader
from tether.model.errors import InvalidInputError

# -- Limits ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Limits:
    """Bounds on untrusted manifest input, checked while parsing."""

    max_file_bytes: int = 10 * 1024 * 1024
    """One file over 10 MiB is not a manifest (Argo CD's combined directory limit is 10M)."""

    max_total_bytes: int = 64 * 1024 * 1024
    """All files of one source; Kubeflow's whole example renders to about 12 MiB."""

    max_files: int = 10_000
    """Manifest files per directory source; Kubeflow's whole tree has about 1,250."""

    max_nodes: int = 2_000_000
    """Expanded nodes per document: stops billion-laughs aliases, which share nodes until dumped."""

    max_depth: int = 200
    """Nesting per document; deep CRD schemas reach ~60, and orjson refuses past 254."""


DEFAULT_LIMITS = Limits()

LIST_KINDS_WITH_ITEMS = "List"
"""``kind: List`` and every ``*List`` kind with an ``items`` array are flattened (kubectl does)."""


# -- Parsing -----------------------------------------------------------------------------------


def parse_yaml(
    text: str | bytes, filename: str, limits: Limits = DEFAULT_LIMITS
) -> list[dict[str, Any]]:
    """Parse a YAML stream into objects in source order, flattening ``List`` kinds.

    Empty documents are skipped. Errors name the file and the 1-based document index.

    Raises:
        InvalidInputError: on invalid YAML, a document that is not an object, or a limit.
    """
    _check_size(text, filename, limits)
    try:
        return _parse_plain(text, limits)
    except _Unusual:
        _census(text, filename, limits)
        return _parse_composed(text, filename, limits)
    except _TooManyValues as err:
        raise _too_many_values(filename, err.index, limits) from None


def _too_many_values(filename: str, index: int, limits: Limits) -> InvalidInputError:
    return InvalidInputError(
        f"{filename}: document {index} holds more than {limits.max_nodes} values "
        "(an alias counts at every use)"
    )


def _census(text: str | bytes, filename: str, limits: Limits) -> None:
    """Refuse a document with more values than ``limits`` allow before PyYAML composes it.

    The composer holds a node object per value (hundreds of bytes each), so a huge document
    must be refused from the parser's events, which cost nothing to keep. Aliases count once
    here; ``_check_shape`` counts them at every use afterwards.
    """
    loader = K8sLoader(text)
    index = values = 0
    try:
        while True:
            event = loader.get_event()
            kind = type(event)
            if kind is yaml.DocumentStartEvent:
                index, values = index + 1, 0
            elif kind is yaml.ScalarEvent or kind in _COLLECTION_STARTS:
                values += 1
                if values > limits.max_nodes:
                    raise _too_many_values(filename, index, limits)
            elif kind is yaml.StreamEndEvent:
                return
    except yaml.YAMLError:
        return  # the composer words the error
    finally:
        loader.dispose()


def _parse_composed(text: str | bytes, filename: str, limits: Limits) -> list[dict[str, Any]]:
    """``parse_yaml`` through PyYAML's composer and constructor: any stream, and every error."""
    objects: list[dict[str, Any]] = []
    index = 0
    try:
        for index, doc in enumerate(_load_all(text), start=1):
            if doc is None:
                continue
            objects.extend(_accept(doc, filename, index, limits))
    except yaml.YAMLError as err:
        raise InvalidInputError(f"{filename}: invalid YAML: {_yaml_reason(err)}") from None
    except (ValueError, TypeError, OverflowError, IndexError) as err:
        # Explicitly tagged scalars that do not convert (`!!int abc`; `!!int ""` is an
        # IndexError inside PyYAML).
        raise InvalidInputError(f"{filename}: document {index + 1}: invalid value: {err}") from None
    except RecursionError:
        raise InvalidInputError(
            f"{filename}: document {index + 1} nests deeper than {limits.max_depth} levels"
        ) from None
    return objects


def parse_json(
    text: str | bytes, filename: str, limits: Limits = DEFAULT_LIMITS
) -> list[dict[str, Any]]:
    """Parse one JSON document (an object, or an array of objects) into objects.

    Raises:
        InvalidInputError: on invalid JSON, a value that is not an object, or a limit.
    """
    _check_size(text, filename, limits)
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError as err:
        raise InvalidInputError(f"{filename}: invalid JSON: {err}") from None
    return parse_value(doc, filename, limits)


def parse_value(doc: Any, filename: str, limits: Limits = DEFAULT_LIMITS) -> list[dict[str, Any]]:
    """Accept an already decoded value (JSON, Jsonnet output): an object or an array of objects.

    Raises:
        InvalidInputError: on a value that is not an object or a limit.
    """
    if isinstance(doc, list):
        objects: list[dict[str, Any]] = []
        for index, item in enumerate(doc, start=1):
            objects.extend(_accept(item, filename, index, limits))
        return objects
    if doc is None:
        return []
    return _accept(doc, filename, 1, limits)


def parse_stream(
    text: str | bytes, filename: str, limits: Limits = DEFAULT_LIMITS
) -> list[dict[str, Any]]:
    """Parse tool output or a file by content: JSON when it starts like JSON, else YAML."""
    head = text.lstrip()[:1]
    if head in ("{", b"{", "[", b"["):
        try:
            return parse_json(text, filename, limits)
        except InvalidInputError:
            pass  # YAML flow style also starts with "{" or "["; let the YAML parser decide.
    return parse_yaml(text, filename, limits)


def _load_all(text: str | bytes) -> Iterator[Any]:
    loader = K8sLoader(text)
    try:
        while loader.check_data():  # type: ignore[no-untyped-call]
            yield loader.get_data()
    finally:
        loader.dispose()


class _Unusual(Exception):
    """The stream is not plain: ``parse_yaml`` parses it again through ``_parse_composed``."""


class _TooManyValues(Exception):
    """Document ``index`` of a plain stream has more values than the limit: stop building it."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_PLAIN_SCALAR_TAGS = frozenset({_STR, _NULL, "tag:yaml.org,2002:bool", INT_TAG, FLOAT_TAG})
"""Tags a plain scalar may resolve to in a plain stream: each constructs from the text alone."""

_COLLECTION_STARTS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_COLLECTION_ENDS = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
_FRAMING = (yaml.StreamStartEvent, yaml.DocumentStartEvent, yaml.DocumentEndEvent)
_NO_KEY = object()
"""An open mapping's marker for "the next scalar is a key"."""


def _parse_plain(text: str | bytes, limits: Limits) -> list[dict[str, Any]]:
    """``parse_yaml`` of a plain stream, built straight from the parser's events.

    Plain is what tools print: mappings at the top, no anchors, aliases or explicit tags,
    string keys, scalars of ``_PLAIN_SCALAR_TAGS``, within ``limits``, nothing to refuse.
    PyYAML's composer makes a node per scalar and its constructor walks them again, and then
    ``_check_shape`` walks the objects: a third of the CPU does for a plain stream (Kubeflow's
    12 MiB render: 1.2 s → 0.35 s). Anything else raises ``_Unusual`` (the stream is parsed
    again by ``_parse_composed``, which also words every error), so the objects are the same.
    """
    loader = K8sLoader(text)
    try:
        return _plain_objects(loader, limits)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError):
        raise _Unusual from None  # invalid YAML, or a scalar that does not convert (`0b_`)
    finally:
        loader.dispose()


def _plain_objects(loader: K8sLoader, limits: Limits) -> list[dict[str, Any]]:
    resolvers = K8sLoader.yaml_implicit_resolvers
    wildcard = resolvers.get(None, [])
    constructors = K8sLoader.yaml_constructors
    tags: dict[str, str] = {}  # plain text -> its tag: manifests repeat the same words a lot
    objects: list[dict[str, Any]] = []
    open_: list[Any] = []  # the containers being filled, outermost first
    keys: list[Any] = []  # per open container, the key awaiting its value, or _NO_KEY
    nodes = 0  # the document's containers and values, counted as _check_shape counts them
    document = 0
    next_event = loader.get_event
    while True:
        event: Any = next_event()
        kind = type(event)
        if kind is yaml.ScalarEvent:
            if event.anchor is not None or event.tag is not None:
                raise _Unusual
            value: Any = event.value
            tag = _STR  # quoted and block scalars are strings
            if event.implicit[0]:
                tag = tags.get(value) or tags.setdefault(
                    value, _resolve_plain(value, resolvers, wildcard)
                )
                if tag == _NULL:
                    value = None
                elif tag != _STR:
                    if tag not in _PLAIN_SCALAR_TAGS:
                        raise _Unusual
                    value = constructors[tag](loader, yaml.ScalarNode(tag, value))
            if not open_:
                if tag != _NULL:
                    raise _Unusual  # a document that is not an object
                continue  # an empty document
            parent = open_[-1]
            if type(parent) is list:
                nodes += 1
                if nodes > limits.max_nodes:
                    raise _TooManyValues(document)
                parent.append(value)
            elif keys[-1] is _NO_KEY:
                if tag != _STR:
                    raise _Unusual  # merge keys and non-string keys: PyYAML's rules apply
                keys[-1] = value
            else:
                nodes += 1
                if nodes > limits.max_nodes:
                    raise _TooManyValues(document)
                parent[keys[-1]] = value
                keys[-1] = _NO_KEY
        elif kind in _COLLECTION_STARTS:
            if event.anchor is not None or event.tag is not None:
                raise _Unusual
            if len(open_) >= limits.max_depth:
                raise _Unusual
            child: Any = {} if kind is yaml.MappingStartEvent else []
            if open_:
                parent = open_[-1]
                if type(parent) is list:
                    parent.append(child)
                elif keys[-1] is _NO_KEY:
                    raise _Unusual  # a collection as a key
                else:
                    parent[keys[-1]] = child
                    keys[-1] = _NO_KEY
            elif type(child) is list:
                raise _Unusual  # a document that is not an object
            else:
                nodes = 0
            nodes += 1
            if nodes > limits.max_nodes:
                raise _TooManyValues(document)  # before the document costs more memory
            open_.append(child)
            keys.append(_NO_KEY)
        elif kind in _COLLECTION_ENDS:
            done = open_.pop()
            keys.pop()
            if not open_:
                objects.extend(_flatten(done))
        elif kind is yaml.StreamEndEvent:
            return objects
        elif kind is yaml.DocumentStartEvent:
            document += 1
        elif kind not in _FRAMING:
            raise _Unusual  # an alias


def _resolve_plain(
    value: str,
    resolvers: dict[Any, list[tuple[str, re.Pattern[str]]]],
    wildcard: list[tuple[str, re.Pattern[str]]],
) -> str:
    """``BaseResolver.resolve`` of a plain scalar, with ``K8sLoader``'s resolvers."""
    for tag, pattern in resolvers.get(value[:1], []) + wildcard:
        if pattern.match(value):
            return tag
    return _STR


def _flatten(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """``_accept`` of a plain document: a ``*List`` kind's items, or the object itself."""
    kind = doc.get("kind")
    items = doc.get("items")
    if isinstance(kind, str) and kind.endswith(LIST_KINDS_WITH_ITEMS) and isinstance(items, list):
        if not all(type(item) is dict for item in items):
            raise _Unusual  # an item that is not an object
        return list(items)
    return [doc]


def _check_size(text: str | bytes, filename: str, limits: Limits) -> None:
    if len(text) > limits.max_file_bytes:
        raise InvalidInputError(
            f"{filename}: {len(text)} bytes exceeds the limit of {limits.max_file_bytes} bytes"
        )


def _yaml_reason(err: yaml.YAMLError) -> str:
    # The problem and its position only: the context snippet would echo file content.
    if isinstance(err, yaml.MarkedYAMLError):
        where = ""
        if err.problem_mark is not None:
            where = f" at line {err.problem_mark.line + 1}, column {err.problem_mark.column + 1}"
        return f"{err.problem or err.context or 'syntax error'}{where}"
    return type(err).__name__


def _accept(doc: Any, filename: str, index: int, limits: Limits) -> list[dict[str, Any]]:
    if not isinstance(doc, dict):
        raise InvalidInputError(
            f"{filename}: document {index} is a {_type_name(doc)}, not a Kubernetes object"
        )
    _check_shape(doc, filename, index, limits)
    kind = doc.get("kind")
    items = doc.get("items")
    if isinstance(kind, str) and kind.endswith(LIST_KINDS_WITH_ITEMS) and isinstance(items, list):
        flat: list[dict[str, Any]] = []
        for item in items:
            if not isinstance(item, dict):
                raise InvalidInputError(
                    f"{filename}: document {index} ({kind}) has an item that is a "
                    f"{_type_name(item)}, not a Kubernetes object"
                )
            flat.append(item)
        return flat
    return [doc]


def _type_name(value: Any) -> str:
    names = {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}
    return names.get(type(value), "null" if value is None else type(value).__name__)


def _check_shape(doc: dict[str, Any], filename: str, index: int, limits: Limits) -> None:
    """Measure expanded size and depth without expanding, memoised by node identity.

    Shared (aliased) nodes count once per reference, so a bomb costs time linear in its source.

    Also turns non-string mapping keys into strings, as sigs.k8s.io/yaml does (``on:`` → "true").
    """
    sizes: dict[int, tuple[int, int]] = {}  # id(container) -> (expanded nodes, depth)
    in_progress: set[int] = set()
    stack: list[tuple[Any, bool]] = [(doc, False)]
    while stack:
        node, children_done = stack.pop()
        ident = id(node)
        if not children_done:
            if ident in sizes:
                continue
            if ident in in_progress:
                raise InvalidInputError(f"{filename}: document {index} refers to itself")
            in_progress.add(ident)
            stack.append((node, True))
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, False) for child in children if isinstance(child, dict | list))
            continue
        in_progress.discard(ident)
        if isinstance(node, dict):
            _stringify_keys(node)
            children = node.values()
        else:
            children = node
        total, depth = 1, 1
        for child in children:
            if isinstance(child, dict | list):
                child_total, child_depth = sizes[id(child)]
                total += child_total
                depth = max(depth, child_depth + 1)
            else:
                total += 1
        if total > limits.max_nodes:
            raise InvalidInputError(
                f"{filename}: document {index} holds more than {limits.max_nodes} values "
                "(an alias counts at every use)"
            )
        if depth > limits.max_depth:
            raise InvalidInputError(
                f"{filename}: document {index} nests deeper than {limits.max_depth} levels"
            )
        sizes[ident] = (total, depth)


def _stringify_keys(mapping: dict[Any, Any]) -> None:
    if all(type(key) is str for key in mapping):
        return
    items = list(mapping.items())
    mapping.clear()
    for key, value in items:
        mapping[key if type(key) is str else _json_key(key)] = value


def _json_key(key: Any) -> str:
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, Mapping | list | tuple):
        raise InvalidInputError("a mapping key is itself a collection")
    return str(key)
