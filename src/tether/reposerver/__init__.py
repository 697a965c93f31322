"""``tether repo-server``: rendering in a process of its own, which holds no Kubernetes credentials.

Rendering runs tenant-controlled tools (helm, kustomize, jsonnet, plugins); here a compromised
tool finds Git caches and the credentials of the one request it serves, never a cluster. The
controller reaches this process through ``adapters.reposerver``; see ``docs/architecture.md``.
"""
