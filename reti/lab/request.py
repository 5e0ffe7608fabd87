"""What the lab takes from a request, within its limits: the JSON body, one uploaded file, and
the one shape of every error it answers (``{"error": ...}`` with a 4xx status)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse


@dataclass
class Limits:
    """Caps on what a request may send."""

    body_bytes: int = 256 * 1024
    upload_bytes: int = 2 * 1024 * 1024
    upload_files: int = 1
    image_pixels: int = 4096 * 4096
    csv_rows: int = 20_000
    zip_bytes: int = 8 * 1024 * 1024
    zip_files: int = 2000
    zip_unpacked_bytes: int = 64 * 1024 * 1024


def error_response(status: int, text: str, **extra) -> JSONResponse:
    """The lab's one error shape: ``{"error": text, ...}`` with a 4xx (or 500) status."""
    return JSONResponse({"error": text, **extra}, status_code=status)


async def form_upload(request: Request, field: str, what: str, max_bytes: int, files: int) -> bytes:
    """The bytes of the uploaded form ``field`` (at most ``max_bytes``; else a 400 or a 413)."""
    form = await request.form(max_files=files, max_fields=4, max_part_size=max_bytes)
    upload = form.get(field)
    if upload is None or isinstance(upload, str):
        raise HTTPException(400, f"send the {what} as the form field {field!r}")
    raw = await upload.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise HTTPException(413, f"the {what} is over {max_bytes} bytes")
    return raw


async def json_body(request: Request, limits: Limits) -> dict:
    """The request's JSON object (at most ``limits.body_bytes``; an empty body is ``{}``); a 400
    or a 413 otherwise."""
    body = await request.body()
    if len(body) > limits.body_bytes:
        raise HTTPException(413, f"request body over {limits.body_bytes} bytes")
    if not body:
        return {}
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(400, "the request body is not JSON") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "the request body must be a JSON object")
    return data
