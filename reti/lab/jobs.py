"""The lab's training jobs: a folder per job under ``<lab>/jobs/<id>/``, one worker thread that
runs them one at a time in order (the rest wait in line), fed by ``fit``'s events and stopped
through its ``RunControl`` (reti.train.events).

A job folder holds ``job.json`` (kind, params, status, result; written atomically),
``events.jsonl`` (every event the page was sent) and ``run/`` (the trainer's run folder). After a
restart the jobs are listed from disk; one that was queued or running is marked "interrupted"
and can be resumed from its last checkpoint.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import queue
import re
import secrets
import shutil
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reti.errors import ConfigError, DataNotFoundError, RetiError
from reti.guards import memory_budget
from reti.io import atomic_write_json
from reti.train import RunControl

JOB_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,47}")  # whole string only: always used by fullmatch
FINISHED = ("done", "failed", "stopped", "interrupted")
log = logging.getLogger("reti.lab")


class QueueFull(ConfigError):
    """Too many jobs wait in line (the app answers 429)."""


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
            try:
                with open(self.folder / "events.jsonl", "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(event) + "\n")
            finally:  # the page hears of it even when the disk refuses it
                self.changed.notify_all()

    def set_status(self, status: str, **fields) -> None:
        with self.changed:
            self.status = status
            for key, value in fields.items():
                setattr(self, key, value)
            try:
                self.save()
            finally:  # the status holds in memory even when the disk refuses to record it
                self.changed.notify_all()


Runner = Callable[[Job, Callable[[dict], None]], dict]


class JobStore:
    """The jobs of one lab folder and the worker that runs them."""

    def __init__(
        self,
        root: Path,
        runners: dict[str, Runner],
        max_queued: int = 8,
        keep: int = 100,
        memory: int | None = None,
    ):
        """``max_queued`` jobs may wait, ``keep`` finished ones stay on disk, and a job's size
        checks (reti.guards) compare against ``memory`` bytes instead of the machine's."""
        self.root = Path(root) / "jobs"
        self.root.mkdir(parents=True, exist_ok=True)
        self.runners, self.max_queued, self.keep, self.memory = runners, max_queued, keep, memory
        self.jobs: dict[str, Job] = {}
        self.queue: queue.Queue[Job | None] = queue.Queue()
        self.lock = threading.Lock()
        self._load()
        self.worker: threading.Thread | None = None
        self.closing = False

    def start(self) -> None:
        """Start the worker (the app's lifespan does, once the server is up)."""
        if self.worker is None or not self.worker.is_alive():
            self.closing = False
            self.worker = threading.Thread(target=self._work, name="reti-lab-worker", daemon=True)
            self.worker.start()

    def _load(self) -> None:
        for folder in sorted(self.root.iterdir()):
            if not (JOB_ID.fullmatch(folder.name) and (folder / "job.json").is_file()):
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
        if not isinstance(job_id, str) or not JOB_ID.fullmatch(job_id):
            raise ConfigError(f"not a job id: {job_id!r}")
        job = self.jobs.get(job_id)
        if job is None or job.folder.resolve().parent != self.root.resolve():
            raise DataNotFoundError(f"no job {job_id!r}")
        return job

    def list(self) -> list[dict]:
        jobs = list(self.jobs.values())  # a snapshot: the worker may prune meanwhile
        return [job.as_dict() for job in sorted(jobs, key=lambda j: j.created)]

    def submit(self, kind: str, params: dict) -> Job:
        """A new job in line (params are checked by the runner before any training).

        Raises:
            QueueFull: ``max_queued`` jobs already wait.
            OSError: the lab folder cannot be written (the app answers 507).
        """
        if not isinstance(kind, str) or kind not in self.runners:
            raise ConfigError(f"job kind must be one of {', '.join(self.runners)}, got {kind!r}")
        with self.lock:
            self._check_room()
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
        self._check_room()
        job.control = RunControl()
        job.params = {**job.params, "resume": True}
        job.set_status("queued", error=None)
        self.queue.put(job)
        return job

    def queued(self) -> int:
        # list(): a snapshot taken at once, while the worker may prune jobs from the dict
        return sum(job.status == "queued" for job in list(self.jobs.values()))

    def _check_room(self) -> None:
        if self.queued() >= self.max_queued:
            raise QueueFull(
                f"{self.max_queued} jobs already wait in line; stop one or wait for them"
            )

    def close(self, wait: float = 30.0) -> None:
        """Stop the worker: a running job stops after its step, queued jobs stay in line on disk
        (the next start lists them as interrupted, to resume), and the worker is joined for up
        to ``wait`` seconds, so that no thread is still inside torch when the process exits
        (which aborts it: "terminate called without an active exception")."""
        self.closing = True
        for job in list(self.jobs.values()):
            if job.status == "running":
                job.control.request_stop()
        self.queue.put(None)
        worker = self.worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout=wait)

    def _work(self) -> None:
        """Run jobs in order until ``close``; nothing a job does can end this loop."""
        while True:
            job = self.queue.get()
            if job is None or self.closing:
                return
            try:
                self._run(job)
            except Exception as exc:  # even a failing disk while reporting a failure
                log.exception("reti lab: job %s could not be recorded", job.id)
                job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
            try:
                self.prune()
            except Exception:
                log.exception("reti lab: old jobs could not be pruned")

    def _run(self, job: Job) -> None:
        if job.status != "queued":  # stopped while it waited
            return
        self._finish(job, "running")
        try:
            budget = (
                contextlib.nullcontext()
                if self.memory is None
                else memory_budget(self.memory, "the lab's job budget")
            )
            with budget:
                result = self.runners[job.kind](job, job.add_event)
            status = "stopped" if job.control.stop_requested else "done"
            self._finish(job, status, result=result)
        except RetiError as exc:
            self._finish(job, "failed", error=str(exc))
        except OSError as exc:  # a full or read-only disk: say so plainly
            self._finish(job, "failed", error=f"the lab folder could not be written: {exc}")
        except Exception as exc:  # a bug in a job must not take the worker down
            try:
                (job.folder / "traceback.txt").write_text(traceback.format_exc())
            except OSError:
                pass
            self._finish(job, "failed", error=f"{type(exc).__name__}: {exc}")

    def prune(self) -> list[str]:
        """Delete the oldest finished jobs past ``keep`` (never a queued or running one)."""
        with self.lock:
            done = sorted(
                (j for j in self.jobs.values() if j.status in FINISHED), key=lambda j: j.created
            )
            gone = done[: max(0, len(done) - self.keep)]
            for job in gone:
                shutil.rmtree(job.folder, ignore_errors=True)
                del self.jobs[job.id]
        return [job.id for job in gone]

    @staticmethod
    def _finish(job: Job, status: str, **fields) -> None:
        """Set the status and send it as an event in one step (a listener sees both or none).
        The status holds in memory even when the disk refuses to record it."""
        with job.changed:
            try:
                job.set_status(status, **fields)
            finally:
                with contextlib.suppress(OSError):
                    job.add_event({"kind": "status", "status": status, "error": job.error})
