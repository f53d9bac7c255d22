"""Spreadsheet files for import and export: Excel (.xlsx) through openpyxl.

The row format (columns, neutralised text, decimal hours) is core's, in
:mod:`core.tracking.rows`; this package only moves those rows in and out of a
workbook. CSV needs no plugin: :func:`core.tracking.write_csv` / ``read_csv``.
"""

from plugins.spreadsheets.xlsx import XLSX_MEDIA_TYPE, XlsxSpreadsheets, read_xlsx, write_xlsx

__all__ = ["XLSX_MEDIA_TYPE", "XlsxSpreadsheets", "read_xlsx", "write_xlsx"]
