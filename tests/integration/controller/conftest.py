"""Controller test fixtures: ``crds`` and ``kube`` are in ``tests/integration/conftest.py``."""
