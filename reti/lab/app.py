"""The lab's web app (Starlette): one page per part of the notes, a JSON API computed live by
reti's own functions, and server-sent events from the training jobs.

Safety: every request may need a token (header ``X-Reti-Token``, ``?token=`` which also sets a
cookie, or the cookie); request bodies and uploads are capped; the only request values that reach
the file system are job ids, checked against ``JobStore``'s folder; every error is one JSON
``{"error": ...}`` with a 4xx status, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from reti.errors import DataError, DataNotFoundError, ParseError, RetiError
from reti.i18n import LANGUAGES, catalogue
from reti.lab import norm_job, sequences, vision
from reti.lab.dropout_job import dropout_params, run_dropout
from reti.lab.guard import TokenGuard
from reti.lab.jobs import FINISHED, JobStore
from reti.lab.runners import (
    DEFAULT_PATTERN,
    RUNNERS,
    USER_JOBS,
    load_classifier,
    series_params,
    vision_params,
)
from reti.lab.uploads import (
    ZipLimits,
    read_csv_column,
    save_series_csv,
    unpack_image_zip,
    upload_shape,
)
from reti.models.registry import MODELS
from reti.train import latest_checkpoint

HERE = Path(__file__).resolve().parent
PAGES = ("connectivity", "cnn", "normalization", "augment", "series", "text", "claims")


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


def _error(status: int, text: str, **extra) -> JSONResponse:
    return JSONResponse({"error": text, **extra}, status_code=status)


async def _upload(request: Request, field: str, what: str, max_bytes: int, files: int) -> bytes:
    """The bytes of the uploaded form ``field`` (at most ``max_bytes``; else a 400 or a 413)."""
    form = await request.form(max_files=files, max_fields=4, max_part_size=max_bytes)
    upload = form.get(field)
    if upload is None or isinstance(upload, str):
        raise HTTPException(400, f"send the {what} as the form field {field!r}")
    raw = await upload.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise HTTPException(413, f"the {what} is over {max_bytes} bytes")
    return raw


async def _json(request: Request, limits: Limits) -> dict:
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


class Lab:
    """The app's state: its folder, jobs, char GPT, token and limits."""

    def __init__(self, root: Path, token: str | None, limits: Limits, gpt_steps: int):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.token, self.limits = token, limits
        self.jobs = JobStore(self.root, {**RUNNERS, "dropout": run_dropout, "norm": norm_job.run})
        self.uploads = self.root / "uploads"
        self.uploads.mkdir(exist_ok=True)
        self.gpt = sequences.CharGPT(self.root / "models" / "char-gpt")
        waiting = any(
            j["kind"] == "chargpt" and j["status"] in ("queued", "running")
            for j in self.jobs.list()
        )
        if not self.gpt.trained and not waiting:  # first in line, trained once per lab folder
            self.jobs.submit("chargpt", {"steps": gpt_steps})

    # -- pages -----------------------------------------------------------------------------
    async def page(self, request: Request) -> Response:
        name = request.path_params.get("page", "connectivity")
        if name not in PAGES:
            return _error(404, f"no page {name!r}; pages: {', '.join(PAGES)}")
        base = (HERE / "pages" / "base.html").read_text(encoding="utf-8")
        body = (HERE / "pages" / f"{name}.html").read_text(encoding="utf-8")
        return HTMLResponse(base.replace("{{page}}", name).replace("{{body}}", body))

    async def i18n(self, request: Request) -> Response:
        lang = request.query_params.get("lang", "en")
        if lang not in LANGUAGES:
            return _error(400, f"lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")
        keys = {k: v for k, v in catalogue(lang).items() if k.startswith("lab.")}
        return JSONResponse(keys)

    # -- interactive endpoints -----------------------------------------------------------------
    async def connectivity(self, request: Request) -> Response:
        q = request.query_params
        args = [
            vision._int(q.get(name, default), name, 1, high)
            for name, default, high in (
                ("image", 1000, 100_000), ("hidden", 10**6, 10**12),
                ("kernel", 10, 10_000), ("filters", 100, 10**6), ("channels", 1, 1000),
            )
        ]  # fmt: skip
        return JSONResponse(await run_in_threadpool(vision.connectivity, *args))

    async def pattern(self, request: Request) -> Response:
        q = request.query_params
        model, data = q.get("model", DEFAULT_PATTERN), q.get("data", "digits")
        if len(model) > 500:
            return _error(400, "the pattern is longer than 500 characters")
        shape = upload_shape(self.uploads, data[7:]) if data.startswith("upload:") else None
        result = await run_in_threadpool(vision.layer_table, model, data, shape)
        return JSONResponse(result)

    async def models(self, request: Request) -> Response:
        return JSONResponse({"models": list(MODELS), "default": DEFAULT_PATTERN})

    async def dropout(self, request: Request) -> Response:
        q = request.query_params
        seed = vision._int(q.get("seed", 0), "seed", 0, 2**31)
        return JSONResponse(await run_in_threadpool(vision.dropout_demo, q.get("p", 0.5), seed))

    async def norm(self, request: Request) -> Response:
        q = request.query_params
        return JSONResponse(await run_in_threadpool(vision.norm_demo, q.get("batch", 2)))

    async def augment(self, request: Request) -> Response:
        q = request.query_params
        spec = q.get("spec", "")
        if len(spec) > 500:
            return _error(400, "the spec is longer than 500 characters")
        result = await run_in_threadpool(
            vision.augment_grid, spec, q.get("seed", 0), q.get("count", 16), q.get("data", "digits")
        )
        if q.get("format") == "png":
            return Response(
                await run_in_threadpool(vision.grid_png, result), media_type="image/png"
            )
        return JSONResponse(result)

    async def causal(self, request: Request) -> Response:
        q = request.query_params
        result = await run_in_threadpool(
            sequences.causal_demo, q.get("step", 40), q.get("kernel", 3), q.get("levels", 3)
        )
        return JSONResponse(result)

    async def series_csv(self, request: Request) -> Response:
        """An uploaded CSV (one file, capped bytes and rows): its first numeric column."""
        raw = await _upload(request, "file", "CSV", self.limits.upload_bytes,
                            self.limits.upload_files)  # fmt: skip
        column = read_csv_column(raw, self.limits.csv_rows)
        column["id"] = await run_in_threadpool(save_series_csv, column["values"], self.uploads)
        return JSONResponse(column)

    async def upload_images(self, request: Request) -> Response:
        """A zip of class folders (one file, capped) -> an upload id to train on."""
        size = vision._int(request.query_params.get("size", 28), "size", 4, 128)
        raw = await _upload(request, "file", "zip", self.limits.zip_bytes, 1)
        caps = ZipLimits(
            self.limits.zip_files, self.limits.zip_unpacked_bytes, self.limits.image_pixels
        )
        result = await run_in_threadpool(unpack_image_zip, raw, self.uploads, size, caps)
        return JSONResponse(result, status_code=201)

    async def tokenize(self, request: Request) -> Response:
        data = await _json(request, self.limits)
        kinds = data.get("kinds", list(sequences.TOKENIZERS))
        if not isinstance(kinds, list) or not all(k in sequences.TOKENIZERS for k in kinds):
            return _error(400, f"kinds must be a list of {', '.join(sequences.TOKENIZERS)}")
        result = await run_in_threadpool(sequences.tokenize_all, data.get("text", ""), tuple(kinds))
        return JSONResponse(result)

    def _check_gpt(self) -> None:
        """A failed char GPT job is an error to show, not a reason to wait (409) forever."""
        if self.gpt.trained:
            return
        jobs = [j for j in self.jobs.list() if j["kind"] == "chargpt"]
        if jobs and jobs[-1]["status"] in FINISHED and jobs[-1]["status"] != "done":
            raise DataError(f"the char GPT could not be trained: {jobs[-1]['error']}")

    async def text_ready(self, request: Request) -> Response:
        """Whether the char GPT is trained (the page asks before sampling, instead of a 409)."""
        try:
            self._check_gpt()
        except DataError as exc:
            return JSONResponse({"ready": False, "error": str(exc)})
        return JSONResponse({"ready": self.gpt.trained, "error": None})

    async def text_step(self, request: Request) -> Response:
        d = await _json(request, self.limits)
        self._check_gpt()
        result = await run_in_threadpool(
            sequences.sample_step, self.gpt, d.get("prompt", ""), d.get("temperature", 1.0),
            d.get("top_k"), d.get("top_p"), d.get("seed", 0),
        )  # fmt: skip
        return JSONResponse(result)

    async def attention(self, request: Request) -> Response:
        d = await _json(request, self.limits)
        self._check_gpt()
        return JSONResponse(
            await run_in_threadpool(sequences.attention, self.gpt, d.get("prompt", ""))
        )

    async def positions(self, request: Request) -> Response:
        q = request.query_params
        return JSONResponse(await run_in_threadpool(sequences.position_biases, q.get("n", 24)))

    async def claims(self, request: Request) -> Response:
        from reti.claims.registry import CLAIMS

        return JSONResponse(
            {
                "claims": [
                    {
                        "number": i,
                        "name": c.name,
                        "section": c.section,
                        "quote": c.quote,
                        "english": c.english,
                    }  # fmt: skip
                    for i, c in enumerate(CLAIMS, 1)
                ]
            }
        )

    # -- jobs ----------------------------------------------------------------------------------
    async def job_list(self, request: Request) -> Response:
        return JSONResponse({"jobs": self.jobs.list(), "queued": self.jobs.queued()})

    async def job_submit(self, request: Request) -> Response:
        d = await _json(request, self.limits)
        kind, params = d.get("kind"), d.get("params", {})
        if not isinstance(kind, str) or kind not in USER_JOBS:
            return _error(400, f"job kind must be one of {', '.join(USER_JOBS)}, got {kind!r}")
        if not isinstance(params, dict):
            return _error(400, "params must be a JSON object")
        if kind == "vision":
            params = vision_params(params, self.uploads)
        elif kind == "series":
            params = series_params(params, self.uploads)
        elif kind in ("dropout", "norm"):
            params = (dropout_params if kind == "dropout" else norm_job.params)(params)
        elif kind == "claim":
            from reti.claims.runner import select

            if set(params) - {"claim"}:
                return _error(400, "claim jobs take one param: claim (a name or number)")
            select([str(params.get("claim", ""))])
        job = self.jobs.submit(kind, params)
        return JSONResponse(job.as_dict(), status_code=201)

    async def job_get(self, request: Request) -> Response:
        return JSONResponse(self.jobs.get(request.path_params["job"]).as_dict())

    async def job_stop(self, request: Request) -> Response:
        return JSONResponse(self.jobs.stop(request.path_params["job"]).as_dict())

    async def job_resume(self, request: Request) -> Response:
        return JSONResponse(self.jobs.resume(request.path_params["job"]).as_dict())

    async def job_events(self, request: Request) -> Response:
        """Server-sent events: every event of the job from ``?after=`` on, until it ends."""
        job = self.jobs.get(request.path_params["job"])
        start = vision._int(request.query_params.get("after", 0), "after", 0, 10**9)

        async def stream():
            n = start
            while True:
                with job.changed:  # the status and its event change together
                    events, finished = job.events[n:], job.status in FINISHED
                for event in events:
                    yield f"data: {json.dumps(event)}\n\n"
                n += len(events)
                if finished and n >= len(job.events):
                    yield "event: close\ndata: {}\n\n"
                    return
                if await request.is_disconnected():
                    return
                await asyncio.sleep(0.15)

        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    async def job_checkpoint(self, request: Request) -> Response:
        """The job's latest checkpoint folder as a zip (safetensors + JSON, no pickle)."""
        job = self.jobs.get(request.path_params["job"])
        folder = latest_checkpoint(job.run_dir) if job.run_dir.is_dir() else None
        if folder is None:
            raise DataNotFoundError(f"job {job.id} has no checkpoint yet")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(folder.iterdir()):
                if path.is_file():
                    zf.write(path, f"{folder.name}/{path.name}")
        headers = {"Content-Disposition": f'attachment; filename="{job.id}.zip"'}
        return Response(buffer.getvalue(), media_type="application/zip", headers=headers)

    async def job_predict(self, request: Request) -> Response:
        """Class probabilities of a drawn image (JSON ``pixels`` in [0, 1]) or an uploaded one."""
        job = self.jobs.get(request.path_params["job"])
        if job.kind != "vision" or not (job.run_dir / "checkpoints").is_dir():
            raise DataNotFoundError(f"job {job.id} has no trained vision model yet")
        model, mc = await run_in_threadpool(load_classifier, job.run_dir)
        shape = (mc["in_channels"], mc["image_size"], mc["image_size"])
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            raw = await _upload(request, "image", "image", self.limits.upload_bytes,
                                self.limits.upload_files)  # fmt: skip
            x = vision.decode_image(raw, shape, self.limits.image_pixels)
        else:
            x = vision.pixels_tensor((await _json(request, self.limits)).get("pixels"), shape)
        with torch.no_grad():
            probs = model(x).softmax(-1)[0]
        return JSONResponse({"classes": mc["classes"], "probs": probs.tolist()})


def _lifespan(lab: Lab):
    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        lab.jobs.close()  # a running job stops at its next step

    return lifespan


def create_app(
    root: str | Path = "runs/lab",
    token: str | None = None,
    limits: Limits | None = None,
    gpt_steps: int = 300,
) -> Starlette | TokenGuard:
    """The lab app writing under ``root``; with ``token`` every request must carry it."""
    lab = Lab(Path(root), token, limits or Limits(), gpt_steps)
    get, post = ["GET"], ["POST"]
    routes = [
        Route("/", lab.page, methods=get),
        Route("/page/{page}", lab.page, methods=get),
        Route("/api/i18n", lab.i18n, methods=get),
        Route("/api/connectivity", lab.connectivity, methods=get),
        Route("/api/pattern", lab.pattern, methods=get),
        Route("/api/models", lab.models, methods=get),
        Route("/api/dropout", lab.dropout, methods=get),
        Route("/api/norm", lab.norm, methods=get),
        Route("/api/augment", lab.augment, methods=get),
        Route("/api/series/causal", lab.causal, methods=get),
        Route("/api/series/csv", lab.series_csv, methods=post),
        Route("/api/uploads/images", lab.upload_images, methods=post),
        Route("/api/tokenize", lab.tokenize, methods=post),
        Route("/api/text/ready", lab.text_ready, methods=get),
        Route("/api/text/step", lab.text_step, methods=post),
        Route("/api/text/attention", lab.attention, methods=post),
        Route("/api/text/positions", lab.positions, methods=get),
        Route("/api/claims", lab.claims, methods=get),
        Route("/api/jobs", lab.job_list, methods=get),
        Route("/api/jobs", lab.job_submit, methods=post),
        Route("/api/jobs/{job}", lab.job_get, methods=get),
        Route("/api/jobs/{job}/stop", lab.job_stop, methods=post),
        Route("/api/jobs/{job}/resume", lab.job_resume, methods=post),
        Route("/api/jobs/{job}/events", lab.job_events, methods=get),
        Route("/api/jobs/{job}/checkpoint", lab.job_checkpoint, methods=get),
        Route("/api/jobs/{job}/predict", lab.job_predict, methods=post),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]

    async def reti_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, sequences.NotReady):
            return _error(409, str(exc), retry=True)
        if isinstance(exc, ParseError):
            return _error(400, str(exc), column=exc.position + 1, message=exc.message)
        status = 404 if isinstance(exc, DataNotFoundError) else 400
        return _error(status, str(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 400)
        return _error(status, str(getattr(exc, "detail", "")) or "bad request")

    async def any_error(request: Request, exc: Exception) -> Response:
        return _error(500, f"internal error ({type(exc).__name__}); the server is still up")

    app = Starlette(
        routes=routes,
        exception_handlers={RetiError: reti_error, HTTPException: http_error, Exception: any_error},
        lifespan=_lifespan(lab),
    )
    app.state.lab = lab
    return app if token is None else TokenGuard(app, token)
