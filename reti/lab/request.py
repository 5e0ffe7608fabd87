"""What the lab takes from a request, within its limits: the JSON body, one uploaded file, and
the one shape of every error it answers (``{"error": ...}`` with a 4xx status)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

# a JSON escape of a UTF-16 surrogate (\uD800-\uDFFF): the only way one gets into a body
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


@dataclass
class Limits:
    """The lab's budgets, per request and per job (docs/lab.md lists them), each checked before
    the work it bounds starts: bodies by their length while they stream, uploads before they are
    decoded, previews and jobs by the bytes they would allocate."""

    body_bytes: int = 256 * 1024  # a JSON body
    upload_bytes: int = 2 * 1024 * 1024  # one uploaded CSV or image
    upload_files: int = 1
    image_pixels: int = 4096 * 4096  # one image's header
    csv_rows: int = 20_000
    zip_bytes: int = 8 * 1024 * 1024
    zip_files: int = 2000
    zip_unpacked_bytes: int = 64 * 1024 * 1024
    zip_pixels: int = 64 * 1024 * 1024  # decoded pixels of all the images of one zip together
    preview_bytes: int = 256 * 1024 * 1024  # what one live preview (augment, causal ...) allocates
    job_bytes: int = 2 * 1024**3  # a job's weights + gradients + optimizer state
    queue: int = 8  # jobs waiting in line; past it a submit gets 429
    keep_jobs: int = 100  # finished jobs kept on disk; older ones are pruned

    def body_limit(self, path: str) -> int:
        """The byte cap of a request to ``path`` (a multipart form adds its own headers)."""
        if path == "/api/uploads/images":
            return self.zip_bytes + 64 * 1024
        if path == "/api/series/csv" or path.endswith("/predict"):
            return max(self.upload_bytes, self.body_bytes) + 64 * 1024
        return self.body_bytes


# How much one job (or one sampling step) may ask of the lab, per kind: an inclusive range per
# setting, on top of the rule of the config field each setting sets (reti.lab.settings). Each
# bounds the seconds (epochs, images, steps), the memory (batch size) or the reach (horizon,
# season) of one request; the learning rate's range keeps a page's typo from a run that only
# diverges.
JOB_BUDGET: dict[str, dict[str, tuple[float, float]]] = {
    "vision": {"epochs": (1, 50), "batch_size": (1, 1024), "lr": (1e-6, 1.0),
               "seed": (0, 2**31), "limit": (1, 10**6)},
    "series": {"horizon": (1, 48), "epochs": (1, 100), "season": (1, 366), "seed": (0, 2**31)},
    "dropout": {"p": (0.05, 0.9), "epochs": (1, 100), "limit": (20, 60_000), "seed": (0, 2**31)},
    "norm": {"epochs": (1, 30), "limit": (20, 1437), "seed": (0, 2**31)},
    "chargpt": {"steps": (1, 100_000)},
    "sampling": {"temperature": (0.0, 5.0), "top_k": (1, 10_000), "top_p": (1e-6, 1.0),
                 "seed": (0, 2**31)},  # the Text page's next token (0: the most likely)
}  # fmt: skip


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
    except RecursionError:
        raise HTTPException(400, "the request body's JSON is nested too deep") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "the request body must be a JSON object")
    if SURROGATE_ESCAPE.search(body) is None:  # UTF-8 itself cannot carry a surrogate
        return data
    try:  # a lone surrogate ("\\ud800") is valid JSON but not text
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise HTTPException(400, "the request holds a lone surrogate, which is not text") from None
    except RecursionError:
        raise HTTPException(400, "the request body's JSON is nested too deep") from None
    return data
