"""Lab latency while a training job runs: p50 / p95 of each interactive endpoint.

What: a real uvicorn server of ``reti lab`` on 127.0.0.1 (in a thread of this process, a fresh
lab folder in a temporary directory) with a vision training job running in its worker (digits,
a small CNN, many epochs, so it trains the whole time). Against it, one client sends N requests
to each interactive endpoint in turn: pattern parse + layer table, parameter counts,
augmentation preview of 16 images, one sampling step of the char GPT, tokenizer playground
(char, word, BPE, GPT-2 on one sentence). The char GPT and the tokenizers are warmed up first
(they are trained / loaded once, on first use), as the requests of a page in use would find them.

How: wall time of each request seen by the client (httpx, one connection), the first 3 of each
endpoint dropped as warm-up; checks every answer is 200 and that the job was still running at
the end. The goal (issue 14) is p95 < 200 ms on 2 cores. Results depend on the machine's load.

    python bench/lab_latency.py [--requests 50] [--threads N]

Ends with one JSON line: {"bench": "lab_latency", "p95_ms": {...}, "p50_ms": {...}, ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import tempfile
import threading
import time


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(root: str):
    import uvicorn

    from reti.lab.app import create_app

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(root, gpt_steps=200), "127.0.0.1", port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50, help="requests per endpoint")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    args = parser.parse_args()
    import httpx
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    endpoints = {
        "pattern": ("GET", "/api/pattern?model=[(CONV3@32-RELU)*2-POOL]*2-(FC@128-RELU)*1,SOFTMAX"),
        "params": ("GET", "/api/connectivity?image=512&hidden=4096&kernel=5&filters=64"),
        "augment16": ("GET", "/api/augment?spec=hflip,rotate(15),crop(1),noise(0.1)&count=16"),
        "sample_step": ("POST", "/api/text/step", {"prompt": "ROMEO:\nWhat", "temperature": 0.8}),
        "tokenize": ("POST", "/api/tokenize", {"text": "To be, or not to be: that is it. 🙂"}),
    }
    with tempfile.TemporaryDirectory() as root:
        server, thread, base = _serve(root)
        client = httpx.Client(base_url=base, timeout=600)
        for method, path, *body in endpoints.values():  # warm: GPT trained, BPE learned
            while (
                r := client.request(method, path, json=body[0] if body else None)
            ).status_code == 409:
                time.sleep(1.0)  # the char GPT's training job has not finished yet
            r.raise_for_status()
        params = {"data": "digits", "epochs": 50, "batch_size": 16}
        job = client.post("/api/jobs", json={"kind": "vision", "params": params}).json()
        while client.get(f"/api/jobs/{job['id']}").json()["status"] != "running":
            time.sleep(0.1)
        time.sleep(2.0)  # let training get going
        times: dict[str, list[float]] = {}
        for name, (method, path, *body) in endpoints.items():
            seen = []
            for _ in range(args.requests + 3):
                start = time.perf_counter()
                r = client.request(method, path, json=body[0] if body else None)
                seen.append(time.perf_counter() - start)
                if r.status_code != 200:
                    raise SystemExit(f"{name}: HTTP {r.status_code} {r.text[:200]}")
            times[name] = seen[3:]
        status = client.get(f"/api/jobs/{job['id']}").json()
        still_training = status["status"] == "running" and status["events"] > 3
        client.post(f"/api/jobs/{job['id']}/stop")
        deadline = time.monotonic() + 120  # let fit finish its step and checkpoint
        while client.get(f"/api/jobs/{job['id']}").json()["status"] == "running":
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        server.should_exit = True
        thread.join(timeout=30)
    p95 = {k: round(1000 * _quantile(v, 0.95), 1) for k, v in times.items()}
    p50 = {k: round(1000 * statistics.median(v), 1) for k, v in times.items()}
    for name in endpoints:
        print(f"{name:12s} p50 {p50[name]:8.1f} ms   p95 {p95[name]:8.1f} ms")
    summary = {
        "bench": "lab_latency",
        "p95_ms": p95,
        "p50_ms": p50,
        "requests": args.requests,
        "training_while_measured": still_training,
        "goal_p95_ms": 200,
        "all_under_goal": all(v < 200 for v in p95.values()),
        "torch_threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
