#!/usr/bin/env bash
# build-tools.sh COMPONENT... - build (once per machine) the real Kubernetes binaries and CLIs
# tether runs, from the Go module proxy at pinned versions, and cache them outside the repository.
#
# Components: apiserver (kube-apiserver, kube-controller-manager, kube-scheduler), etcd, helm,
# kustomize, kwok, dex (the OIDC provider SSO tests sign in through; Kubeflow ships it too),
# registry (the CNCF distribution OCI registry, with htpasswd basic auth, that Helm's OCI tests
# pull charts from; tests only), goeval (tether-goeval, tether's own evaluator of Argo CD's
# expressions and Go templates, from ../goeval in this package). For each one it prints "NAME=DIR" on stdout, DIR holding the
# binaries.
# A cached component costs one stat: the directory carries a .complete marker, written last.
# Progress goes to stderr; a failure names the component that did not build.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-1.36.3}
ETCD_VERSION=${ETCD_VERSION:-v3.6.8}
HELM_VERSION=${HELM_VERSION:-v3.22.0}
KUSTOMIZE_VERSION=${KUSTOMIZE_VERSION:-v5.8.1}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
# Dex v2.45.1. Dex's module path has no /v2, so its v2 tags are not module versions; the proxy
# serves the tagged commit as this pseudo-version.
DEX_VERSION=${DEX_VERSION:-v0.0.0-20260303133905-11d2eeb52b42}
REGISTRY_VERSION=${REGISTRY_VERSION:-v3.1.2}
GOEVAL_SRC=${GOEVAL_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../goeval" && pwd)}

export GOTOOLCHAIN=${GOTOOLCHAIN:-local}   # never fetch another toolchain behind the user's back
export CGO_ENABLED=0                       # upstream ships these statically too
export GOFLAGS=-mod=mod

CACHE=${TETHER_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tether/tools}
GOVER=$(go env GOVERSION)
MINOR_PATCH=${K8S_VERSION#1.}
MINOR=${MINOR_PATCH%%.*}
log() { echo "[build-tools] $*" >&2; }

key_of() {
  case $1 in
    apiserver) echo "kubernetes-$K8S_VERSION-$GOVER" ;;
    etcd) echo "etcd-$ETCD_VERSION-$GOVER" ;;
    helm) echo "helm-$HELM_VERSION-k8s$MINOR-$GOVER" ;;
    kustomize) echo "kustomize-$KUSTOMIZE_VERSION-$GOVER" ;;
    kwok) echo "kwok-$KWOK_VERSION-stages2-$GOVER" ;;  # bump "stagesN" when the stage set changes
    dex) echo "dex-$DEX_VERSION-$GOVER" ;;
    registry) echo "registry-$REGISTRY_VERSION-$GOVER" ;;
    # Keyed by its sources' digest: an edit to main.go or a pinned version builds it anew.
    goeval) echo "goeval-$(cat "$GOEVAL_SRC"/main.go "$GOEVAL_SRC"/go.mod "$GOEVAL_SRC"/go.sum \
                          | sha256sum | cut -c1-16)-$GOVER" ;;
    *) log "unknown component '$1' (known: apiserver etcd helm kustomize kwok dex registry goeval)"; exit 2 ;;
  esac
}

build_apiserver() {  # $1 = output dir
  local w="$CACHE/src/kubernetes-$K8S_VERSION"
  rm -rf "$w"; mkdir -p "$w"; cd "$w"
  go mod init tether.invalid/kubernetes >/dev/null 2>&1
  log "downloading k8s.io/kubernetes v$K8S_VERSION and its dependencies"
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" \
          | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  go mod edit -go="$(awk '$1=="go"{print $2; exit}' "$gomod")"
  local godebug; godebug=$(awk '$1=="godebug" && NF==2 {print $2; exit}' "$gomod")
  if [[ -n "$godebug" ]]; then go mod edit -godebug="$godebug"; fi
  # k8s.io/kubernetes requires its staging modules at v0.0.0 via ./staging replaces, which a
  # dependant ignores; point each at the published module of the same release instead.
  local staging
  mapfile -t staging < <(sed -n 's|^[[:space:]]*\(replace[[:space:]]\{1,\}\)\{0,1\}\(k8s\.io/[^[:space:]]*\)[[:space:]]\{1,\}=>[[:space:]]\{1,\}\./staging/.*|\2|p' "$gomod")
  (( ${#staging[@]} > 20 )) || { log "parsed only ${#staging[@]} staging modules"; return 1; }
  for m in "${staging[@]}"; do go mod edit -replace="$m=$m@v0.$MINOR_PATCH"; done
  local cmds=(kube-apiserver kube-controller-manager kube-scheduler)
  for c in "${cmds[@]}"; do go get -tool "k8s.io/kubernetes/cmd/$c@v$K8S_VERSION" >&2; done
  go mod tidy >&2
  local ldf="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf+=" -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$MINOR"
    ldf+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  log "compiling ${cmds[*]} v$K8S_VERSION (cold: 15-30 min on 2 cores)"
  go build -trimpath -ldflags "$ldf" -o "$1/" "${cmds[@]/#/k8s.io/kubernetes/cmd/}"
  cp go.mod go.sum "$1/"
  "$1/kube-apiserver" --version >&2
}

build_etcd() {
  # etcd's go.mod has relative replaces, so `go install` refuses it; as a dependency it builds.
  local w="$CACHE/src/etcd-$ETCD_VERSION"
  rm -rf "$w"; mkdir -p "$w"; cd "$w"
  go mod init tether.invalid/etcd >/dev/null 2>&1
  log "downloading etcd $ETCD_VERSION and its dependencies"
  go get -tool "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
  go mod tidy >&2
  log "compiling etcd"
  go build -trimpath -ldflags "-s -w" -o "$1/etcd" go.etcd.io/etcd/server/v3
  "$1/etcd" --version >&2
}

build_dex() {
  # Dex's go.mod replaces its api/v2 module with a relative path, so `go install` refuses it; as
  # a dependency it builds, with the api/v2 release its go.mod names.
  local w="$CACHE/src/dex-$DEX_VERSION"
  rm -rf "$w"; mkdir -p "$w"; cd "$w"
  go mod init tether.invalid/dex >/dev/null 2>&1
  log "downloading dex and its dependencies"
  go get -tool "github.com/dexidp/dex/cmd/dex@$DEX_VERSION" >&2
  go mod tidy >&2
  log "compiling dex"
  go build -trimpath -ldflags "-s -w" -o "$1/dex" github.com/dexidp/dex/cmd/dex
  "$1/dex" version >&2
}

build_registry() {
  # Built as a dependency, like dex: only its own go.mod's requirements, no replaces to honour.
  local w="$CACHE/src/registry-$REGISTRY_VERSION"
  rm -rf "$w"; mkdir -p "$w"; cd "$w"
  go mod init tether.invalid/registry >/dev/null 2>&1
  go get -tool "github.com/distribution/distribution/v3/cmd/registry@$REGISTRY_VERSION" >&2
  go mod tidy >&2
  go build -trimpath -ldflags "-s -w" -o "$1/registry" github.com/distribution/distribution/v3/cmd/registry
  "$1/registry" --version >&2
}

build_goeval() {
  # Our own source, its dependencies pinned by its go.sum: never re-resolved here.
  log "compiling tether-goeval (expr-lang/expr, Sprig) from $GOEVAL_SRC"
  ( cd "$GOEVAL_SRC" && GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w" \
      -o "$1/tether-goeval" . )
  echo '{"op":"ping"}' | "$1/tether-goeval" >&2
}

build_helm() {
  local ldf="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  ldf+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  for p in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    ldf+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$MINOR"  # default is 1.20 otherwise
  done
  log "downloading and compiling helm $HELM_VERSION"
  GOBIN="$1" go install -trimpath -ldflags "$ldf" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  "$1/helm" version --short >&2
}

build_kustomize() {
  log "downloading and compiling kustomize $KUSTOMIZE_VERSION"
  GOBIN="$1" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
  "$1/kustomize" version >&2
}

build_kwok() {
  log "downloading and compiling kwok $KWOK_VERSION"
  GOBIN="$1" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  "$1/kwok" --version >&2 || true
  # kwok needs Stage definitions to move nodes, pods and volumes through their lifecycle; take
  # the "fast" ones from the very module version just compiled, so stages and binary match.
  # Objects that are not Stages (the volume StorageClass) go to objects/, applied at start.
  local src; src="$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage"
  mkdir -p "$1/stages" "$1/objects"
  local d f
  for d in node/fast node/heartbeat-with-lease pod/fast volume/fast; do
    for f in "$src/$d"/*.yaml; do
      [[ $(basename "$f") == kustomization.yaml ]] && continue
      if grep -q '^kind: Stage$' "$f"; then
        cp "$f" "$1/stages/$(basename "$f")"
      else
        cp "$f" "$1/objects/$(basename "$f")"
      fi
    done
  done
  chmod u+w "$1/stages"/*.yaml "$1/objects"/*.yaml
  ls "$1/stages"/*.yaml >/dev/null
}

for component in "$@"; do
  dir="$CACHE/bin/$(key_of "$component")"
  if [[ ! -f "$dir/.complete" ]]; then
    mkdir -p "$CACHE/bin" "$CACHE/src"
    exec 9>"$CACHE/.lock-$component"; flock 9   # two runs never build the same thing at once
    if [[ ! -f "$dir/.complete" ]]; then
      log "building $component (first time on this machine)"
      rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
      if ! ( "build_$component" "$dir.tmp" ); then
        log "FAILED to build component '$component'; see the go output above"
        exit 1
      fi
      touch "$dir.tmp/.complete"
      rm -rf "$dir"; mv "$dir.tmp" "$dir"
      log "built $component"
    fi
    exec 9>&-
  fi
  echo "$component=$dir"
done
