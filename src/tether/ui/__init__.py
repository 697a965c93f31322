"""The web UI: server-rendered pages (Jinja2 + htmx) that are clients of the API.

Every page reads through the API in-process with the browser's own credentials
(``apicall``), and every button calls the API from the browser, so the UI can never show or do
more than its user may through the API.
"""
