"""The web console: a page for people at ``/`` that resolves identifiers and shows their record, lifecycle, trace
graph and QR code, and lets enterprise users browse their prefixes, templates and identifiers.

The server only renders the page shell (in the visitor's language) and serves the static script, style and QR
images; every piece of data is read by the browser from the node's own public HTTP API with the visitor's token,
so the console can show nothing that the API would not answer to the same caller.
"""
