"""Git hosts' webhooks: which provider sent one, whether it is genuine, and what it concerns.

Pure: the API route reads the body, ``services.webhooks`` refreshes the apps ``matching`` picks.
"""
