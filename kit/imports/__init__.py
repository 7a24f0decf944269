"""Bulk import of leads from a spreadsheet: reading it, mapping its columns, checking its rows.

* :mod:`kit.imports.reader` — CSV (UTF-8, UTF-8 with BOM, Windows-1252; sniffed delimiter) and XLSX
  (openpyxl, read-only) as a header and a stream of rows; limits and "not a table" answers;
* :mod:`kit.imports.mapping` — column header → lead field, payment or custom-action field;
* :mod:`kit.imports.checks` — each row checked as ``/lead`` checks a line, and made its Async body;
* :mod:`kit.imports.preview` — the whole preview: a file checked and its valid rows stored;
* :mod:`kit.imports.report` — the preview in words, for Slack and for a terminal.
"""
