"""The figure of a claim run in the lab: the PNG the claim's own code (``reti.claims.figures``,
the same as the report's) wrote into the job's folder, served to the Claims page."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from reti.errors import DataNotFoundError


def figure_route(lab):
    """``GET /api/jobs/{job}/figure``: the claim job's figure (404 until it has one)."""

    async def figure(request: Request) -> Response:
        job = lab.jobs.get(request.path_params["job"])  # checks the id against the job folder
        pngs = sorted((job.folder / "claim").glob("*.png")) if job.kind == "claim" else []
        if not pngs:
            raise DataNotFoundError(f"job {job.id} has no figure")
        data = await run_in_threadpool(pngs[0].read_bytes)
        return Response(data, media_type="image/png", headers={"Cache-Control": "no-cache"})

    return figure
