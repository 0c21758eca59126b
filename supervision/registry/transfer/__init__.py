"""Import and export of establishments as CSV or XLSX files.

The file has one row per establishment under a header row; the columns are `COLUMNS` (Chinese
headers, the English field names accepted as aliases). An establishment's licences share the
four licence columns: several licences are separated by "；" (or ";") and aligned by position.

Importing is all or nothing. Every row is parsed and validated first, against reference data
loaded once; if any row is bad the whole file is refused with every problem found, as
(row, column, reason) with rows numbered as a spreadsheet shows them (the header is row 1), and
nothing is written. A file that cannot be read at all (damaged, truncated, an XLSX with entity
declarations, which defusedxml refuses) is refused the same way, as a problem of row 1. Only a
clean file is upserted, by credit code, through `service.upsert_establishment`, so identical
rows write nothing and importing the same file twice is a no-op. The caller commits.

Exporting streams: establishments are read in keyset batches with their licences loaded per
batch, and written row by row (csv, or openpyxl's write-only workbook), so memory stays flat
however large the registry. Cells a spreadsheet would run as formulas are neutralised. An
exported file imports back as "unchanged".

Modules: `columns` (the columns and the refusal), `reading` (rows and cells), `importing`,
`exporting`.
"""
from supervision.registry.transfer.columns import (
    COLUMNS,
    FORMATS,
    Column,
    ImportRefused,
    ImportReport,
    RowProblem,
    UnsupportedFormat,
    file_format,
)
from supervision.registry.transfer.exporting import export_establishments, export_rows
from supervision.registry.transfer.importing import import_establishments, parse_row, read_establishments

__all__ = [
    "COLUMNS", "FORMATS", "Column", "ImportRefused", "ImportReport", "RowProblem", "UnsupportedFormat",
    "export_establishments", "export_rows", "file_format", "import_establishments", "parse_row",
    "read_establishments",
]
