"""Decisions behind the cluster adapter: what the watch cache keeps, how it lists and watches.

``reflection`` is the list-and-watch state machine, ``cachepolicy`` what the cache keeps and
reports, ``leasing`` leader election over a Lease. Only ``tether.adapters.kube`` uses them.
"""
