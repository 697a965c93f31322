"""The Kubernetes API adapter: lightkube plus a thin raw layer for discovery and list/watch."""
