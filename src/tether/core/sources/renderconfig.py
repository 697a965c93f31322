"""The operator's rendering configuration, as Argo CD's ConfigMaps hold it: parsed and checked.

``argocd-cm``'s ``kustomize.buildOptions`` and ``helm.valuesFileSchemes`` (sent with every render),
``argocd-ssh-known-hosts-cm`` and ``argocd-tls-certs-cm`` (whom Git and Helm trust). Only the
operator writes these; still, nothing here lets a value become a flag tether did not list. A
refused kustomize flag refuses the key whole (an error naming it); a scheme, known-hosts line or
certificate entry tether cannot use is left out with a warning naming it. Pure.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
import urllib.parse
from collections.abc import Mapping

from tether.core.sources.rendering import BuildOptions
from tether.model.errors import InvalidInputError

KUSTOMIZE_BUILD_OPTIONS_KEY = "kustomize.buildOptions"
HELM_VALUE_SCHEMES_KEY = "helm.valuesFileSchemes"
KNOWN_HOSTS_KEY = "ssh_known_hosts"
"""The one key of ``argocd-ssh-known-hosts-cm``."""

KUSTOMIZE_FLAGS: Mapping[str, tuple[tuple[str, ...] | None, str]] = {
    # flag -> (the values it may take, or None for a switch; why tether honours it)
    "--enable-helm": (None, "helmCharts inflate with tether's own helm (--helm-command is set)"),
    "--load-restrictor": (
        ("LoadRestrictionsRootOnly", "LoadRestrictionsNone"),
        "tether's own check still keeps every local reference inside the repository",
    ),
}

KUSTOMIZE_FLAGS_REFUSED: Mapping[str, str] = {
    # flag -> why it is never passed, whoever asks
    "--enable-alpha-plugins": "lets a repository's kustomization run programs or containers",
    "--enable-exec": "lets a repository's kustomization run its own executables",
    "--as-current-user": "only for function containers, which tether never runs",
    "--env": "only for functions, which tether never runs",
    "-e": "only for functions, which tether never runs",
    "--mount": "only for function containers, which tether never runs",
    "--network": "only for function containers, which tether never runs",
    "--network-name": "only for function containers, which tether never runs",
    "--helm-command": "tether runs its own helm",
    "--helm-kube-version": "tether sets it from the Application and its destination",
    "--helm-api-versions": "tether sets it from the Application and its destination",
    "--output": "tether reads kustomize's output from stdout",
    "-o": "tether reads kustomize's output from stdout",
    "--help": "prints help instead of manifests",
    "-h": "prints help instead of manifests",
}

VALUE_FILE_SCHEMES: Mapping[str, str] = {
    # scheme -> why helm can fetch it here (helm has no getter plugins in tether)
    "https": "helm's built-in getter",
    "http": "helm's built-in getter",
}

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*$")
_HOST = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$")
"""A ConfigMap key holds no more than ``[-._a-zA-Z0-9]+``: names and IPv4 addresses."""
_PEM_BLOCK = re.compile(
    r"-----BEGIN (?P<kind>[A-Z0-9 ]+)-----\r?\n(?P<body>[A-Za-z0-9+/=\r\n]+?)"
    r"-----END (?P=kind)-----"
)


@dataclasses.dataclass(frozen=True)
class HostTrust:
    """Whom Git and Helm trust: SSH host keys and per-host TLS CAs."""

    known_hosts: str = ""
    """OpenSSH ``known_hosts`` text; an SSH host not in it is refused."""
    tls_certs: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Host name (lower case, no port) -> PEM certificates trusted for it instead of the
    system's CAs, as Argo CD uses ``argocd-tls-certs-cm``."""

    def ca_for(self, url: str) -> str:
        """The PEM certificates trusted for ``url``'s host, or empty (the system's CAs)."""
        host = _host_of(url)
        return self.tls_certs.get(host, "") if host else ""


NO_TRUST = HostTrust()
"""Tether's default: no SSH host key, no CA besides the system's."""


def _host_of(url: str) -> str:
    """The host of an http(s) or oci URL, lower case and without a port."""
    if "://" not in url:
        url = "https://" + url  # OCI references are written without a scheme
    try:
        return (urllib.parse.urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def build_options(argocd_cm: Mapping[str, str]) -> tuple[BuildOptions, list[str]]:
    """``kustomize.buildOptions`` and ``helm.valuesFileSchemes`` of ``argocd-cm``, with warnings.

    A scheme helm cannot fetch here is dropped with a warning (Argo CD users list helm plugins'
    schemes); flags are all or nothing.

    Raises:
        InvalidInputError: ``kustomize.buildOptions`` holds a flag tether refuses or does not
            know; the message names the key and the flag, and nothing of it applies.
    """
    warnings: list[str] = []
    kustomize: tuple[str, ...] = ()
    if KUSTOMIZE_BUILD_OPTIONS_KEY in argocd_cm:
        try:
            kustomize = parse_kustomize_build_options(argocd_cm[KUSTOMIZE_BUILD_OPTIONS_KEY])
        except ValueError as err:
            raise InvalidInputError(f"argocd-cm {KUSTOMIZE_BUILD_OPTIONS_KEY}: {err}") from None
    schemes: tuple[str, ...] = ()
    if HELM_VALUE_SCHEMES_KEY in argocd_cm:
        schemes, dropped = parse_value_file_schemes(argocd_cm[HELM_VALUE_SCHEMES_KEY])
        warnings += [f"argocd-cm {HELM_VALUE_SCHEMES_KEY}: {d}" for d in dropped]
    return BuildOptions(kustomize, schemes), warnings


def parse_kustomize_build_options(text: str) -> tuple[str, ...]:
    """The words of ``kustomize.buildOptions``, split as a shell would (without running one).

    Raises:
        ValueError: unbalanced quotes, a flag not in ``KUSTOMIZE_FLAGS``, a value it does not
            take, or a word that is no flag (kustomize would read it as the directory).
    """
    try:
        words = shlex.split(text)
    except ValueError:
        raise ValueError("unbalanced quotes") from None
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        name, glued, value = word.partition("=")
        if name in KUSTOMIZE_FLAGS_REFUSED:
            raise ValueError(f"{name} is refused: {KUSTOMIZE_FLAGS_REFUSED[name]}")
        if name not in KUSTOMIZE_FLAGS:
            if not word.startswith("-"):
                raise ValueError(f"{word!r} is not a flag")
            raise ValueError(f"{name} is not a flag tether passes to kustomize build")
        values, _ = KUSTOMIZE_FLAGS[name]
        if values is None:
            if glued:
                raise ValueError(f"{name} takes no value")
            out.append(name)
        else:
            if not glued:
                if i + 1 >= len(words):
                    raise ValueError(f"{name} needs a value")
                i += 1
                value = words[i]
            if value not in values:
                raise ValueError(f"{name} takes one of {', '.join(values)}")
            out += [name, value]
        i += 1
    return tuple(out)


def parse_value_file_schemes(text: str) -> tuple[tuple[str, ...], list[str]]:
    """The schemes of ``helm.valuesFileSchemes`` helm can fetch here; why others were dropped."""
    kept: list[str] = []
    dropped: list[str] = []
    for part in text.split(","):
        scheme = part.strip().lower()
        if not scheme:
            continue
        if not _SCHEME.match(scheme):
            dropped.append(f"{scheme[:40]!r} is not a URL scheme; ignored")
        elif scheme not in VALUE_FILE_SCHEMES:
            dropped.append(f"{scheme!r} has no helm getter in tether; ignored")
        elif scheme not in kept:
            kept.append(scheme)
    return tuple(kept), dropped


def parse_known_hosts(text: str, where: str) -> tuple[str, list[str]]:
    """``known_hosts`` text with malformed lines left out, and a warning per line left out.

    A line is ``[marker] hosts keytype key [comment]``; OpenSSH itself skips lines it cannot
    read, but silently: here the operator hears which line.
    """
    kept: list[str] = []
    warnings: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if fields[0].startswith("@"):
            if fields[0] not in ("@cert-authority", "@revoked"):
                warnings.append(f"{where} line {number}: unknown marker {fields[0][:20]!r}")
                continue
            fields = fields[1:]
        if len(fields) < 3 or not _looks_like_key(fields[1], fields[2]):
            warnings.append(f"{where} line {number}: not 'hosts keytype key'; ignored")
            continue
        kept.append(line)
    return "".join(line + "\n" for line in kept), warnings


def _looks_like_key(keytype: str, key: str) -> bool:
    return (
        # OpenSSH's key types all begin so: ssh-ed25519, ecdsa-sha2-nistp256, sk-ssh-...
        re.fullmatch(r"(ssh|ecdsa|sk)-[a-z0-9@.-]+", keytype) is not None
        and re.fullmatch(r"[A-Za-z0-9+/]{16,}={0,2}", key) is not None
    )


def parse_tls_certs(data: Mapping[str, str], where: str) -> tuple[dict[str, str], list[str]]:
    """``argocd-tls-certs-cm``'s data as host -> PEM certificates, with a warning per bad key.

    Keys are host names, as Argo CD has them: a port is no part of the key (Argo CD looks a
    repository up by its host alone), so ``host:port`` is refused with a warning saying so.
    Only CERTIFICATE blocks are kept; a key without one is refused.
    """
    certs: dict[str, str] = {}
    warnings: list[str] = []
    for key in sorted(data):
        shown = f"{where} {key[:80]!r}"
        if ":" in key:
            warnings.append(f"{shown}: the key is a host name without a port; ignored")
            continue
        if not _HOST.match(key):
            warnings.append(f"{shown}: not a host name; ignored")
            continue
        blocks = [
            m.group(0) for m in _PEM_BLOCK.finditer(data[key]) if m.group("kind") == "CERTIFICATE"
        ]
        if not blocks:
            warnings.append(f"{shown}: holds no PEM certificate; ignored")
            continue
        certs[key.lower()] = "".join(b.replace("\r\n", "\n") + "\n" for b in blocks)
    return certs, warnings


def host_trust(
    known_hosts_cm: Mapping[str, str] | None, tls_certs_cm: Mapping[str, str] | None
) -> tuple[HostTrust, list[str]]:
    """The trust two ConfigMaps' data give (``None``: the ConfigMap does not exist)."""
    warnings: list[str] = []
    known = ""
    if known_hosts_cm is not None:
        warnings += [
            f"argocd-ssh-known-hosts-cm {key}: unknown key; ignored"
            for key in sorted(set(known_hosts_cm) - {KNOWN_HOSTS_KEY})
        ]
        known, found = parse_known_hosts(
            known_hosts_cm.get(KNOWN_HOSTS_KEY, ""), f"argocd-ssh-known-hosts-cm {KNOWN_HOSTS_KEY}"
        )
        warnings += found
    certs: dict[str, str] = {}
    if tls_certs_cm is not None:
        certs, found = parse_tls_certs(tls_certs_cm, "argocd-tls-certs-cm")
        warnings += found
    return HostTrust(known, certs), warnings
