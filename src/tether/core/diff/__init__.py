"""Comparing desired with live objects: normalisation, ignored fields, field ownership, masking.

``diff`` decides one resource's difference and sync status; ``normalize`` strips what the server
owns; ``ignore`` applies ``ignoreDifferences``; ``managedfields`` reads server-side apply
ownership; ``secrets`` masks Secret values; ``tracking`` says which app an object belongs to.
"""
