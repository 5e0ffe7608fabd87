"""The lab's training jobs: a folder per job under ``<lab>/jobs/<id>/``, one worker thread that
runs them one at a time in order (the rest wait in line), fed by ``fit``'s events and stopped
through its ``RunControl`` (reti.train.events).

A job folder holds ``job.json`` (kind, params, status, result; written atomically),
``events.jsonl`` (every event the page was sent) and ``run/`` (the trainer's run folder). After a
restart the jobs are listed from disk; one that was queued or running is marked "interrupted"
and can be resumed from its last checkpoint.
"""

from __future__ import annotations

import datetime as _dt
import json
import queue
import re
import secrets
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reti.errors import ConfigError, DataNotFoundError, RetiError
from reti.io import atomic_write_json
from reti.train import RunControl

JOB_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")
FINISHED = ("done", "failed", "stopped", "interrupted")


class Job:
    """One job: what to run (``kind``, ``params``), where it stands and what it said."""

    def __init__(self, folder: Path, kind: str, params: dict, status: str = "queued", **extra):
        self.folder, self.id, self.kind, self.params = folder, folder.name, kind, params
        self.status = status
        self.created = extra.get("created") or _dt.datetime.now(_dt.timezone.utc).isoformat()
        self.result: dict | None = extra.get("result")
        self.error: str | None = extra.get("error")
        self.events: list[dict] = []
        self.control = RunControl()
        self.changed = threading.Condition()

    @property
    def run_dir(self) -> Path:
        return self.folder / "run"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "params": self.params, "status": self.status,
            "created": self.created, "result": self.result, "error": self.error,
            "events": len(self.events),
        }  # fmt: skip

    def save(self) -> None:
        info = self.as_dict()
        info.pop("events")
        atomic_write_json(self.folder / "job.json", info)

    def add_event(self, event: dict) -> None:
        with self.changed:
            event = {"n": len(self.events), **event}
            self.events.append(event)
            with open(self.folder / "events.jsonl", "a", encoding="utf-8") as fh:
                fh.write(json.dumps(event) + "\n")
            self.changed.notify_all()

    def set_status(self, status: str, **fields) -> None:
        with self.changed:
            self.status = status
            for key, value in fields.items():
                setattr(self, key, value)
            self.save()
            self.changed.notify_all()


Runner = Callable[[Job, Callable[[dict], None]], dict]


class JobStore:
    """The jobs of one lab folder and the worker that runs them."""

    def __init__(self, root: Path, runners: dict[str, Runner]):
        self.root = Path(root) / "jobs"
        self.root.mkdir(parents=True, exist_ok=True)
        self.runners = runners
        self.jobs: dict[str, Job] = {}
        self.queue: queue.Queue[Job | None] = queue.Queue()
        self.lock = threading.Lock()
        self._load()
        self.worker = threading.Thread(target=self._work, name="reti-lab-worker", daemon=True)
        self.worker.start()

    def _load(self) -> None:
        for folder in sorted(self.root.iterdir()):
            if not (JOB_ID.match(folder.name) and (folder / "job.json").is_file()):
                continue
            try:
                info = json.loads((folder / "job.json").read_text(encoding="utf-8"))
                extra = {k: info.get(k) for k in ("created", "result", "error")}
                job = Job(folder, info["kind"], info["params"], info["status"], **extra)
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a damaged job folder is skipped, never deleted
            events = folder / "events.jsonl"
            if events.is_file():
                for line in events.read_text(encoding="utf-8").splitlines():
                    try:
                        job.events.append(json.loads(line))
                    except ValueError:
                        break  # a line cut by a crash ends the log
            if job.status not in FINISHED:
                job.status = "interrupted"
                job.save()
            self.jobs[job.id] = job

    def get(self, job_id: str) -> Job:
        """The job ``job_id``; the id is checked against the pattern and the lab folder."""
        if not isinstance(job_id, str) or not JOB_ID.match(job_id):
            raise ConfigError(f"not a job id: {job_id!r}")
        job = self.jobs.get(job_id)
        if job is None or job.folder.resolve().parent != self.root.resolve():
            raise DataNotFoundError(f"no job {job_id!r}")
        return job

    def list(self) -> list[dict]:
        return [job.as_dict() for job in sorted(self.jobs.values(), key=lambda j: j.created)]

    def submit(self, kind: str, params: dict) -> Job:
        """A new job in line (params are checked by the runner before any training)."""
        if not isinstance(kind, str) or kind not in self.runners:
            raise ConfigError(f"job kind must be one of {', '.join(self.runners)}, got {kind!r}")
        with self.lock:
            stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
            folder = self.root / f"{kind}-{stamp}-{secrets.token_hex(3)}"
            folder.mkdir()
            job = Job(folder, kind, params)
            job.save()
            self.jobs[job.id] = job
        self.queue.put(job)
        return job

    def stop(self, job_id: str) -> Job:
        """Ask a running job to stop after its step, or take a queued one out of line."""
        job = self.get(job_id)
        if job.status == "queued":
            job.set_status("stopped")
        elif job.status == "running":
            job.control.request_stop()
        else:
            raise ConfigError(f"job {job_id} is {job.status}; only a queued or running job stops")
        return job

    def resume(self, job_id: str) -> Job:
        """Put a stopped or interrupted job back in line; it goes on from its last checkpoint."""
        job = self.get(job_id)
        if job.status not in ("stopped", "interrupted", "failed"):
            raise ConfigError(f"job {job_id} is {job.status}; only a stopped job can be resumed")
        job.control = RunControl()
        job.params = {**job.params, "resume": True}
        job.set_status("queued", error=None)
        self.queue.put(job)
        return job

    def queued(self) -> int:
        return sum(job.status == "queued" for job in self.jobs.values())

    def close(self) -> None:
        for job in self.jobs.values():
            if job.status == "running":
                job.control.request_stop()
        self.queue.put(None)

    def _work(self) -> None:
        while True:
            job = self.queue.get()
            if job is None:
                return
            if job.status != "queued":  # stopped while it waited
                continue
            self._finish(job, "running")
            try:
                result = self.runners[job.kind](job, job.add_event)
                status = "stopped" if job.control.stop_requested else "done"
                self._finish(job, status, result=result)
            except RetiError as exc:
                self._finish(job, "failed", error=str(exc))
            except Exception as exc:  # a bug in a job must not take the worker down
                (job.folder / "traceback.txt").write_text(traceback.format_exc())
                self._finish(job, "failed", error=f"{type(exc).__name__}: {exc}")

    @staticmethod
    def _finish(job: Job, status: str, **fields) -> None:
        """Set the status and send it as an event in one step (a listener sees both or none)."""
        with job.changed:
            job.set_status(status, **fields)
            job.add_event({"kind": "status", "status": status, "error": job.error})
