"""Where desired state comes from: Git revisions and credentials, render inputs, Kubernetes YAML.

``rendering`` turns an Application source into a render request (tool, jail, environment,
cache key); ``kubeyaml`` parses rendered output in Kubernetes' YAML dialect; ``semver`` picks
tags; ``repocreds`` picks credentials; ``distribution`` re-points a distribution at a fork.
"""
