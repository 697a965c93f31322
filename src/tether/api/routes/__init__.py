"""The API's routes, one module per group of Argo CD endpoints; each exposes ``router``."""
