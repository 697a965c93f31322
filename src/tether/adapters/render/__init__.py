"""Render adapters: the real kustomize, helm, gojsonnet and plugins behind ``ports.Renderer``.

``renderer.Renderer`` is the entry point; the modules beside it each own one tool.
"""
