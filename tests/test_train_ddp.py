"""DDP under torchrun: 2 gloo processes with batch 8 each train like 1 process with batch 16."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap

import pytest
import torch
from safetensors.torch import load_file

from reti.train.ddp import Dist, batches_per_epoch, shard

CASE = textwrap.dedent(
    """
    import json, sys
    import torch
    import torch.nn.functional as F
    from safetensors.torch import save_file
    from torch import nn
    from reti.runtime import world
    from reti.train import TrainConfig, fit


    def data(n=64, seed=0):
        g = torch.Generator().manual_seed(seed)
        X = torch.randn(n, 6, generator=g)
        return X, (X @ torch.randn(6, 3, generator=g)).argmax(-1)


    def train(batch_size, run_dir=None):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
        cfg = TrainConfig(batch_size=batch_size, epochs=2, lr=1e-2, schedule="cosine",
                          device="cpu", quiet=True)
        return fit(model, data(), cfg, loss_fn=F.cross_entropy, val=data(36, 1), run_dir=run_dir)


    if __name__ == "__main__":
        torch.set_num_threads(1)
        h = train(8, sys.argv[2])
        rank, _, size = world()
        if rank == 0:
            save_file({k: v.contiguous() for k, v in h.model.state_dict().items()}, sys.argv[1])
            print(json.dumps({"rows": h.rows, "world": size}))
    """
)


# The launcher's own failures (its TCP store losing a race for a port on a busy machine), not the
# training's: only these are retried, once.
_LAUNCHER = re.compile(
    r"TCPStore|rendezvous|EADDRINUSE|Address already in use|DistNetworkError|Connection reset", re.I
)


def _torchrun(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0 and _LAUNCHER.search(proc.stderr):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    return proc


def _load_case(path):
    spec = importlib.util.spec_from_file_location("ddp_case", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shard_gives_each_rank_its_slice_of_every_global_batch():
    order = torch.arange(20)
    ranks = [shard(order, 4, Dist(r, r, 2, torch.device("cpu"))) for r in (0, 1)]
    assert [b.tolist() for b in ranks[0]] == [[0, 1, 2, 3], [8, 9, 10, 11]]
    assert [b.tolist() for b in ranks[1]] == [[4, 5, 6, 7], [12, 13, 14, 15]]  # 16-19 dropped
    assert batches_per_epoch(20, 4, Dist(1, 1, 2, torch.device("cpu"))) == 2
    alone = shard(order, 8, Dist(0, 0, 1, torch.device("cpu")))
    assert [len(b) for b in alone] == [8, 8, 4]


@pytest.mark.slow
def test_two_gloo_processes_match_one_process(tmp_path):
    script = tmp_path / "ddp_case.py"
    script.write_text(CASE)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for key in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    out = tmp_path / "ddp.safetensors"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    cmd += [str(script), str(out), str(tmp_path / "run")]
    proc = _torchrun(cmd, env)
    assert proc.returncode == 0, (proc.stdout[-1000:], proc.stderr[-3000:])
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["world"] == 2

    single = _load_case(script).train(16)
    ddp_weights = load_file(out)
    for name, value in single.model.state_dict().items():
        torch.testing.assert_close(ddp_weights[name], value, rtol=1e-5, atol=1e-6)
    for ddp_row, row in zip(report["rows"], single.rows, strict=True):
        assert ddp_row["step"] == row["step"] == 4 * ddp_row["epoch"]
        assert ddp_row["train_loss"] == pytest.approx(row["train_loss"], rel=1e-5)
        assert ddp_row["val_loss"] == pytest.approx(row["val_loss"], rel=1e-5)  # all 36 samples
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["world_size"] == 2 and saved["train_samples"] == 64
    assert (tmp_path / "run" / "checkpoints" / "step-0000008").is_dir()


@pytest.mark.slow
def test_the_cli_under_torchrun_matches_its_one_process_equivalent(tmp_path):
    """`torchrun --nproc-per-node 2 reti vision train --batch-size 8` equals one process with
    `--batch-size 16`: same seed, same model built on every rank, same weights."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for key in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    args = ["vision", "train", "--data", "digits", "--limit", "256", "--epochs", "2"]
    args += ["--model", "[(CONV3@4-RELU)*1-POOL]*1-(FC@16-RELU)*1,SOFTMAX", "--device", "cpu"]
    args += ["--seed", "3", "--quiet"]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node"]
    two = _torchrun(
        [*torchrun, "2", "-m", "reti", *args, "--batch-size", "8", "--out", str(tmp_path / "two")],
        env,
    )
    assert two.returncode == 0, (two.stdout[-1000:], two.stderr[-2000:])
    one = subprocess.run(
        [sys.executable, "-m", "reti", *args, "--batch-size", "16", "--out", str(tmp_path / "one")],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert one.returncode == 0, one.stderr[-2000:]
    assert two.stdout.count("run folder") <= 1  # only rank 0 prints its summary
    config = json.loads((tmp_path / "two" / "config.json").read_text())
    assert config["world_size"] == 2

    def weights(run):
        step = sorted((tmp_path / run / "checkpoints").glob("step-*"))[-1]
        return load_file(next(step.glob("*.safetensors")))

    a, b = weights("two"), weights("one")
    assert a.keys() == b.keys()
    for k in a:
        if "weight" in k or "bias" in k:
            torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5, msg=k)
