"""ApplicationSets' pure decisions: generator parameters, templates, and what a pass may change.

``params`` (each generator's parameter sets), ``combine`` (matrix and merge), ``fasttemplate``
(the legacy ``{{param}}`` form and the walk over a template's strings), ``plan`` (wanted against
owned Applications and the fail-safe rules every create, update and delete passes through).
"""
