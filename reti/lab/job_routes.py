"""The lab's training-job routes: list, submit, inspect, stop, resume, stream the events of a
job (server-sent events), download its checkpoint and predict with a trained vision job. A mixin
of :class:`reti.lab.app.Lab`, which holds ``jobs``, ``uploads`` and ``limits``."""

from __future__ import annotations

import asyncio
import functools
import io
import json
import zipfile

import torch
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from reti.errors import ConfigError, DataNotFoundError
from reti.guards import human_bytes
from reti.lab import norm_job, predict, vision
from reti.lab.dropout_job import dropout_params
from reti.lab.jobs import FINISHED
from reti.lab.request import error_response, form_upload, json_body
from reti.lab.runners import USER_JOBS, load_classifier, series_params, vision_params
from reti.lab.uploads import upload_shape
from reti.numbers import int_in
from reti.train import latest_checkpoint

# fp32 weights, their gradients and AdamW's two moments: what a job's model holds while it trains
BYTES_PER_PARAMETER = 4 * 4


def check_job_memory(params: dict, uploads, budget: int) -> None:
    """Refuse a vision job whose model outgrows the lab's job budget, from its shape alone
    (built on the meta device: no memory, no time), before it is queued."""
    data = params["data"]
    shape = upload_shape(uploads, data[len("upload:") :]) if data.startswith("upload:") else None
    total = vision.layer_table(params["model"], data, shape)["total"]
    need = total * BYTES_PER_PARAMETER
    if need > budget:
        raise ConfigError(
            f"model {params['model']!r} has {total:,} parameters: {human_bytes(need)} for its "
            f"weights, gradients and optimizer state; the lab's job budget is "
            f"{human_bytes(budget)} (train it with `reti vision train` instead)"
        )


@functools.lru_cache(maxsize=4)
def _classifier(checkpoint: str) -> tuple[torch.nn.Module, dict]:
    """The model of one checkpoint folder, loaded once for every drawing classified with it
    (checkpoint folders are written once, atomically: a new one has a new name)."""
    return load_classifier(checkpoint)


def _zip_folder(folder) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.iterdir()):
            if path.is_file():
                zf.write(path, f"{folder.name}/{path.name}")
    return buffer.getvalue()


class JobRoutes:
    """The ``/api/jobs`` routes."""

    async def job_list(self, request: Request) -> Response:
        return JSONResponse({"jobs": self.jobs.list(), "queued": self.jobs.queued()})

    async def job_submit(self, request: Request) -> Response:
        d = await json_body(request, self.limits)
        kind, params = d.get("kind"), d.get("params", {})
        if not isinstance(kind, str) or kind not in USER_JOBS:
            return error_response(
                400, f"job kind must be one of {', '.join(USER_JOBS)}, got {kind!r}"
            )
        if not isinstance(params, dict):
            return error_response(400, "params must be a JSON object")
        if kind == "vision":
            params = vision_params(params, self.uploads)
            await run_in_threadpool(check_job_memory, params, self.uploads, self.limits.job_bytes)
        elif kind == "series":
            params = series_params(params, self.uploads)
        elif kind in ("dropout", "norm"):
            params = (dropout_params if kind == "dropout" else norm_job.params)(params)
        elif kind == "claim":
            from reti.claims.runner import select

            if set(params) - {"claim", "lang"}:
                return error_response(
                    400, "claim jobs take claim (a name or number) and lang (en or it)"
                )
            if params.get("lang", "en") not in ("en", "it"):
                return error_response(400, f"lang must be en or it, got {params['lang']!r}")
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
        start = int_in(request.query_params.get("after", 0), "after", 0, 10**9)

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
        headers = {"Content-Disposition": f'attachment; filename="{job.id}.zip"'}
        body = await run_in_threadpool(_zip_folder, folder)  # off the event loop
        return Response(body, media_type="application/zip", headers=headers)

    async def job_predict(self, request: Request) -> Response:
        """Class probabilities of a drawn image (JSON ``pixels`` in [0, 1], ``width`` x
        ``height``) or an uploaded one, and ``input``, the image the net received."""
        job = self.jobs.get(request.path_params["job"])
        if job.kind != "vision" or not (job.run_dir / "checkpoints").is_dir():
            raise DataNotFoundError(f"job {job.id} has no trained vision model yet")
        checkpoint = latest_checkpoint(job.run_dir)
        if checkpoint is None:
            raise DataNotFoundError(f"job {job.id} has no trained vision model yet")
        model, mc = await run_in_threadpool(_classifier, str(checkpoint))
        channels, side = mc["in_channels"], mc["image_size"]
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            raw = await form_upload(request, "image", "image", self.limits.upload_bytes,
                                self.limits.upload_files)  # fmt: skip
            image = await run_in_threadpool(
                predict.uploaded_image, raw, channels, self.limits.image_pixels
            )
        else:
            image = predict.drawn_image(await json_body(request, self.limits), channels, side)
        return JSONResponse(await run_in_threadpool(predict.predict, model, mc, image))
