"""Bulk import and export of identifiers from spreadsheets (CSV) and JSON Lines, for ``secnode import`` / ``export``.

Rows are streamed, never loaded whole; they are registered through the business API's write path
(``registry.handles.items.write_items``), a batch per transaction, with a checkpoint after each committed batch.
"""
