"""The lab's web app (Starlette): one page per part of the notes, a JSON API computed live by
reti's own functions, and server-sent events from the training jobs.

Safety (reti.lab.guard): only the lab's own pages may drive it (Host allowlist, same-origin
``Origin``, JSON or multipart bodies only, an optional token), every request has a budget checked
before its work starts (``Limits``: bytes while a body streams, decoded pixels, the memory of a
preview, the memory of a job, the queue), the only request values that reach the file system are
ids checked against their folders, and every error is one JSON ``{"error": ...}`` with a 4xx
status (507 when the lab folder cannot be written), never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from reti.errors import DataError, DataNotFoundError, ParseError, RetiError
from reti.guards import memory_budget
from reti.i18n import LANGUAGES, catalogue
from reti.lab import norm_job, sequences, vision
from reti.lab.claim_figure import figure_route
from reti.lab.dropout_job import run_dropout
from reti.lab.guard import Guard, NoCrash
from reti.lab.job_routes import JobRoutes
from reti.lab.jobs import FINISHED, JobStore, QueueFull
from reti.lab.request import Limits, error_response, form_upload, json_body
from reti.lab.runners import (
    CNN_DEFAULTS,
    DEFAULT_PATTERN,
    RUNNERS,
)
from reti.lab.uploads import (
    ZipLimits,
    read_csv_column,
    save_series_csv,
    unpack_image_zip,
    upload_shape,
)
from reti.models.registry import MODELS
from reti.numbers import int_in

HERE = Path(__file__).resolve().parent
# the catalogue the pages read: the lab's own strings and the claims' verdicts
I18N_KEYS = ("lab.", "verdict.")
PAGES = ("connectivity", "cnn", "normalization", "augment", "series", "text", "claims")


class Lab(JobRoutes):
    """The app's state: its folder, jobs, char GPT, token and limits."""

    def __init__(self, root: Path, token: str | None, limits: Limits, gpt_steps: int):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.token, self.limits = token, limits
        runners = {**RUNNERS, "dropout": run_dropout, "norm": norm_job.run}
        self.jobs = JobStore(
            self.root, runners, limits.queue, limits.keep_jobs, memory=limits.job_bytes
        )
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
            return error_response(404, f"no page {name!r}; pages: {', '.join(PAGES)}")
        base = (HERE / "pages" / "base.html").read_text(encoding="utf-8")
        body = (HERE / "pages" / f"{name}.html").read_text(encoding="utf-8")
        return HTMLResponse(base.replace("{{page}}", name).replace("{{body}}", body))

    async def i18n(self, request: Request) -> Response:
        lang = request.query_params.get("lang", "en")
        if lang not in LANGUAGES:
            return error_response(400, f"lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")
        keys = {k: v for k, v in catalogue(lang).items() if k.startswith(I18N_KEYS)}
        return JSONResponse(keys)

    # -- interactive endpoints -----------------------------------------------------------------
    async def bounded(self, func, *args):
        """``func(*args)`` off the event loop, within the preview's memory budget."""

        def call():
            with memory_budget(self.limits.preview_bytes, "the lab's preview budget"):
                return func(*args)

        return await run_in_threadpool(call)

    async def connectivity(self, request: Request) -> Response:
        q = request.query_params
        args = [
            int_in(q.get(name, default), name, 1, high)
            for name, default, high in (
                ("image", 1000, 100_000), ("hidden", 10**6, 10**12),
                ("kernel", 10, 10_000), ("filters", 100, 10**6), ("channels", 1, 1000),
            )
        ]  # fmt: skip
        return JSONResponse(await self.bounded(vision.connectivity, *args))

    async def pattern(self, request: Request) -> Response:
        q = request.query_params
        model, data = q.get("model", DEFAULT_PATTERN), q.get("data", "digits")
        if len(model) > 500:
            return error_response(400, "the pattern is longer than 500 characters")
        shape = upload_shape(self.uploads, data[7:]) if data.startswith("upload:") else None
        result = await self.bounded(vision.layer_table, model, data, shape)
        return JSONResponse(result)

    async def models(self, request: Request) -> Response:
        return JSONResponse(
            {"models": list(MODELS), "default": DEFAULT_PATTERN, "defaults": CNN_DEFAULTS}
        )

    async def dropout(self, request: Request) -> Response:
        q = request.query_params
        seed = int_in(q.get("seed", 0), "seed", 0, 2**31)
        return JSONResponse(await self.bounded(vision.dropout_demo, q.get("p", 0.5), seed))

    async def norm(self, request: Request) -> Response:
        q = request.query_params
        return JSONResponse(await self.bounded(vision.norm_demo, q.get("batch", 2)))

    async def augment(self, request: Request) -> Response:
        q = request.query_params
        spec = q.get("spec", "")
        if len(spec) > 500:
            return error_response(400, "the spec is longer than 500 characters")
        result = await self.bounded(
            vision.augment_grid, spec, q.get("seed", 0), q.get("count", 16), q.get("data", "digits")
        )
        if q.get("format") == "png":
            return Response(
                await run_in_threadpool(vision.grid_png, result), media_type="image/png"
            )
        return JSONResponse(result)

    async def causal(self, request: Request) -> Response:
        q = request.query_params
        result = await self.bounded(
            sequences.causal_demo, q.get("step", 40), q.get("kernel", 3), q.get("levels", 3)
        )
        return JSONResponse(result)

    async def series_csv(self, request: Request) -> Response:
        """An uploaded CSV (one file, capped bytes and rows): its first numeric column."""
        raw = await form_upload(request, "file", "CSV", self.limits.upload_bytes,
                            self.limits.upload_files)  # fmt: skip
        column = await run_in_threadpool(read_csv_column, raw, self.limits.csv_rows)
        column["id"] = await run_in_threadpool(save_series_csv, column["values"], self.uploads)
        return JSONResponse(column)

    async def upload_images(self, request: Request) -> Response:
        """A zip of class folders (one file, capped) -> an upload id to train on."""
        size = int_in(request.query_params.get("size", 28), "size", 4, 128)
        raw = await form_upload(request, "file", "zip", self.limits.zip_bytes, 1)
        caps = ZipLimits(
            self.limits.zip_files, self.limits.zip_unpacked_bytes, self.limits.image_pixels,
            self.limits.zip_pixels,
        )  # fmt: skip
        result = await run_in_threadpool(unpack_image_zip, raw, self.uploads, size, caps)
        return JSONResponse(result, status_code=201)

    async def tokenize(self, request: Request) -> Response:
        data = await json_body(request, self.limits)
        kinds = data.get("kinds", list(sequences.TOKENIZERS))
        if not isinstance(kinds, list) or not all(k in sequences.TOKENIZERS for k in kinds):
            return error_response(400, f"kinds must be a list of {', '.join(sequences.TOKENIZERS)}")
        result = await self.bounded(sequences.tokenize_all, data.get("text", ""), tuple(kinds))
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
        d = await json_body(request, self.limits)
        self._check_gpt()
        result = await self.bounded(
            sequences.sample_step, self.gpt, d.get("prompt", ""), d.get("temperature", 1.0),
            d.get("top_k"), d.get("top_p"), d.get("seed", 0),
        )  # fmt: skip
        return JSONResponse(result)

    async def attention(self, request: Request) -> Response:
        d = await json_body(request, self.limits)
        self._check_gpt()
        return JSONResponse(await self.bounded(sequences.attention, self.gpt, d.get("prompt", "")))

    async def positions(self, request: Request) -> Response:
        q = request.query_params
        return JSONResponse(await self.bounded(sequences.position_biases, q.get("n", 24)))

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
                        "statement": {  # the claim in one line, in each language
                            code: catalogue(code).get(f"claims.{c.name}.statement", c.english)
                            for code in LANGUAGES
                        },
                    }  # fmt: skip
                    for i, c in enumerate(CLAIMS, 1)
                ]
            }
        )


def _lifespan(lab: Lab):
    @contextlib.asynccontextmanager
    async def lifespan(app):
        lab.jobs.start()  # jobs run only while the server serves
        yield
        await asyncio.to_thread(lab.jobs.close)  # a running job stops at its next step

    return lifespan


def create_app(
    root: str | Path = "runs/lab",
    token: str | None = None,
    limits: Limits | None = None,
    gpt_steps: int = 300,
    host: str = "127.0.0.1",
) -> Guard:
    """The lab app writing under ``root``, answering requests addressed to ``host`` (and the
    local names); with ``token`` every request must carry it (reti.lab.guard)."""
    limits = limits or Limits()
    lab = Lab(Path(root), token, limits, gpt_steps)
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
        Route("/api/jobs/{job}/figure", figure_route(lab), methods=get),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]

    async def reti_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, sequences.NotReady):
            return error_response(409, str(exc), retry=True)
        if isinstance(exc, ParseError):
            return error_response(400, str(exc), column=exc.position + 1, message=exc.message)
        if isinstance(exc, QueueFull):
            return error_response(429, str(exc))
        status = 404 if isinstance(exc, DataNotFoundError) else 400
        return error_response(status, str(exc))

    async def disk_error(request: Request, exc: Exception) -> Response:
        reason = errno.errorcode.get(getattr(exc, "errno", None) or 0, type(exc).__name__)
        text = f"the lab folder cannot be written ({reason}: {getattr(exc, 'strerror', exc)})"
        return error_response(507, text)

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 400)
        return error_response(status, str(getattr(exc, "detail", "")) or "bad request")

    app = Starlette(
        routes=routes,
        middleware=[Middleware(NoCrash)],
        exception_handlers={RetiError: reti_error, HTTPException: http_error, OSError: disk_error},
        lifespan=_lifespan(lab),
    )
    app.state.lab = lab
    return Guard(app, host=host, token=token, body_limit=limits.body_limit)
