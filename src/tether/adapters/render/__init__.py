"""Render adapters: the real kustomize, helm and gojsonnet."""
