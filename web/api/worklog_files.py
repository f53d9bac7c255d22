"""Worklogs as files: the export's OpenAPI operation (a CSV or .xlsx download) and the
import's body limit and upload reading (the raw body or a multipart ``file``, CSV or .xlsx,
decoded in a worker thread)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import msgspec
from litestar.datastructures import UploadFile
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Operation, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType

from core.errors import ValidationFailed
from core.tracking import NumberedRow, read_csv
from core.tracking.rows import XLSX_MEDIA_TYPE
from plugins.bootstrap import Stint

from ..auth import TenantRequest

__all__ = ["MAX_IMPORT_BYTES", "ImportOut", "SpreadsheetDownload", "decoded_rows", "uploaded_rows"]

#: The import's own body limit, above the app's 5 MiB: a 100,000-row CSV export with short
#: comments is about 8 MB, and comments may be up to 2,000 characters. Still bounded, as the
#: file and its rows are held in memory while they are checked.
MAX_IMPORT_BYTES = 32 * 1024 * 1024



@dataclass
class SpreadsheetDownload(Operation):
    """The export's OpenAPI operation: its 200 is a CSV or .xlsx file, not JSON (Litestar
    documents one media type per response; this operation lists both)."""

    def __post_init__(self) -> None:
        self.responses = {
            **(self.responses or {}),
            "200": OpenAPIResponse(
                description="The worklogs as a file (Content-Disposition: attachment)",
                content={
                    "text/csv": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING)),
                    XLSX_MEDIA_TYPE: OpenAPIMediaType(
                        schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
                    ),
                },
            ),
        }


class ImportOut(msgspec.Struct):
    imported: int


_XLSX_MAGIC = b"PK\x03\x04"


def _decode(stint: Stint, data: bytes, filename: str, media_type: str) -> list[NumberedRow]:
    if media_type.startswith(XLSX_MEDIA_TYPE) or filename.lower().endswith(".xlsx") or (
        data.startswith(_XLSX_MAGIC) and "csv" not in media_type
    ):
        return stint.spreadsheets.read(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("a CSV file must be UTF-8 text", field="file") from None
    return read_csv(text)


async def uploaded_rows(request: TenantRequest, stint: Stint) -> list[NumberedRow]:
    """The file as the raw body (text/csv or the .xlsx type) or as multipart field ``file``."""
    media_type = request.headers.get("content-type", "").lower()
    if media_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed("send the file in the multipart field 'file'", field="file")
        data = await upload.read()
        return await decoded_rows(stint, data, upload.filename or "", (upload.content_type or "").lower())
    data = await request.body()
    if not data:
        raise ValidationFailed("the request has no file", field="file")
    return await decoded_rows(stint, data, "", media_type)


async def decoded_rows(stint: Stint, data: bytes, filename: str, media_type: str) -> list[NumberedRow]:
    """:func:`_decode` in a worker thread: reading a big sheet takes seconds of pure Python,
    during which the event loop must go on serving the process's other requests."""
    return await asyncio.to_thread(_decode, stint, data, filename, media_type)
