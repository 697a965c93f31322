#!/usr/bin/env bash
# Install the Debian packages tether's build, tests and demo need, only those that are missing.
set -euo pipefail
need=()
have() { command -v "$1" >/dev/null 2>&1; }
have git || need+=(git)
have curl || need+=(curl)
have openssl || need+=(openssl)
have ssh || need+=(openssh-client)
have ssh-keygen || need+=(openssh-client)
[[ -x /usr/sbin/sshd ]] || need+=(openssh-server)
[[ -x /usr/lib/git-core/git-http-backend ]] || need+=(git)
# Git test servers (tests/support/gitservers.py): lighttpd fronts git http-backend with basic auth,
# sshd serves git-shell on a loopback port, git daemon serves git://.
[[ -x /usr/sbin/lighttpd ]] || have lighttpd || need+=(lighttpd)
[[ -x /usr/lib/git-core/git-daemon ]] || need+=(git)
[[ -x /usr/bin/git-shell ]] || have git-shell || need+=(git)
have flock || need+=(util-linux)
# kubectl: tests drive the dev cluster as a user would; Debian ships a client old enough to be
# skewed, but apply, get and wait work against 1.36.
have kubectl || need+=(kubernetes-client)
# The web UI's browser tests drive Debian's Chromium (Playwright never downloads a browser here).
[[ -x /usr/bin/chromium ]] || need+=(chromium)
# The OCI image (make image, tests/integration/image): a Debian root from mmdebstrap, umoci to
# unpack it in the test, patchelf to point the copied interpreter at its library; without root,
# mmdebstrap maps the user's subordinate ids with newuidmap.
have mmdebstrap || need+=(mmdebstrap)
have umoci || need+=(umoci)
have patchelf || need+=(patchelf)
have unshare || need+=(util-linux)
[[ $(id -u) == 0 ]] || have newuidmap || need+=(uidmap)
have go || { echo "Go 1.26 is required on PATH (https://go.dev/doc/install)" >&2; exit 1; }
have python3 || { echo "Python 3.11 is required" >&2; exit 1; }
have npm || { echo "Node.js 20+ with npm is required on PATH (the web UI's scripts are built with it)" >&2; exit 1; }
if ((${#need[@]})); then
  echo "[system-deps] installing: ${need[*]}" >&2
  SUDO=""; [[ $(id -u) == 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
