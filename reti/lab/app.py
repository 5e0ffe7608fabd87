"""The lab's web app (Starlette): one page per part of the notes, a JSON API computed live by
reti's own functions, and server-sent events from the training jobs.

Safety: every request may need a token (header ``X-Reti-Token``, ``?token=`` which also sets a
cookie, or the cookie); request bodies and uploads are capped; the only request values that reach
the file system are job ids, checked against ``JobStore``'s folder; every error is one JSON
``{"error": ...}`` with a 4xx status, never a traceback.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from reti.errors import DataError, DataNotFoundError, ParseError, RetiError
from reti.i18n import LANGUAGES, catalogue
from reti.lab import norm_job, sequences, vision
from reti.lab.dropout_job import run_dropout
from reti.lab.guard import TokenGuard
from reti.lab.job_routes import JobRoutes
from reti.lab.jobs import FINISHED, JobStore
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

HERE = Path(__file__).resolve().parent
PAGES = ("connectivity", "cnn", "normalization", "augment", "series", "text", "claims")


class Lab(JobRoutes):
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
            return error_response(404, f"no page {name!r}; pages: {', '.join(PAGES)}")
        base = (HERE / "pages" / "base.html").read_text(encoding="utf-8")
        body = (HERE / "pages" / f"{name}.html").read_text(encoding="utf-8")
        return HTMLResponse(base.replace("{{page}}", name).replace("{{body}}", body))

    async def i18n(self, request: Request) -> Response:
        lang = request.query_params.get("lang", "en")
        if lang not in LANGUAGES:
            return error_response(400, f"lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")
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
            return error_response(400, "the pattern is longer than 500 characters")
        shape = upload_shape(self.uploads, data[7:]) if data.startswith("upload:") else None
        result = await run_in_threadpool(vision.layer_table, model, data, shape)
        return JSONResponse(result)

    async def models(self, request: Request) -> Response:
        return JSONResponse(
            {"models": list(MODELS), "default": DEFAULT_PATTERN, "defaults": CNN_DEFAULTS}
        )

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
            return error_response(400, "the spec is longer than 500 characters")
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
        raw = await form_upload(request, "file", "CSV", self.limits.upload_bytes,
                            self.limits.upload_files)  # fmt: skip
        column = read_csv_column(raw, self.limits.csv_rows)
        column["id"] = await run_in_threadpool(save_series_csv, column["values"], self.uploads)
        return JSONResponse(column)

    async def upload_images(self, request: Request) -> Response:
        """A zip of class folders (one file, capped) -> an upload id to train on."""
        size = vision._int(request.query_params.get("size", 28), "size", 4, 128)
        raw = await form_upload(request, "file", "zip", self.limits.zip_bytes, 1)
        caps = ZipLimits(
            self.limits.zip_files, self.limits.zip_unpacked_bytes, self.limits.image_pixels
        )
        result = await run_in_threadpool(unpack_image_zip, raw, self.uploads, size, caps)
        return JSONResponse(result, status_code=201)

    async def tokenize(self, request: Request) -> Response:
        data = await json_body(request, self.limits)
        kinds = data.get("kinds", list(sequences.TOKENIZERS))
        if not isinstance(kinds, list) or not all(k in sequences.TOKENIZERS for k in kinds):
            return error_response(400, f"kinds must be a list of {', '.join(sequences.TOKENIZERS)}")
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
        d = await json_body(request, self.limits)
        self._check_gpt()
        result = await run_in_threadpool(
            sequences.sample_step, self.gpt, d.get("prompt", ""), d.get("temperature", 1.0),
            d.get("top_k"), d.get("top_p"), d.get("seed", 0),
        )  # fmt: skip
        return JSONResponse(result)

    async def attention(self, request: Request) -> Response:
        d = await json_body(request, self.limits)
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
            return error_response(409, str(exc), retry=True)
        if isinstance(exc, ParseError):
            return error_response(400, str(exc), column=exc.position + 1, message=exc.message)
        status = 404 if isinstance(exc, DataNotFoundError) else 400
        return error_response(status, str(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 400)
        return error_response(status, str(getattr(exc, "detail", "")) or "bad request")

    async def any_error(request: Request, exc: Exception) -> Response:
        return error_response(500, f"internal error ({type(exc).__name__}); the server is still up")

    app = Starlette(
        routes=routes,
        exception_handlers={RetiError: reti_error, HTTPException: http_error, Exception: any_error},
        lifespan=_lifespan(lab),
    )
    app.state.lab = lab
    return app if token is None else TokenGuard(app, token)
