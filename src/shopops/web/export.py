"""CSV and Excel downloads of a page's table (the same rows the page shows)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from fastapi.responses import Response
from openpyxl import Workbook


def table_response(
    name: str, fmt: str, header: Sequence[str], rows: Sequence[Sequence[Any]]
) -> Response:
    if fmt == "xlsx":
        wb = Workbook()
        ws = wb.active
        ws.append(list(header))
        for row in rows:
            ws.append(list(row))
        buf = io.BytesIO()
        wb.save(buf)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        body = buf.getvalue()
    else:
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(header)
        writer.writerows(rows)
        # A BOM so Excel opens the Chinese text as UTF-8.
        body = ("\ufeff" + text.getvalue()).encode()
        media, fmt = "text/csv; charset=utf-8", "csv"
    disposition = f'attachment; filename="{name}.{fmt}"'
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})
