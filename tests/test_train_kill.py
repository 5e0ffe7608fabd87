"""Exact resume after ``kill -9``: a training process SIGKILLed at a random step, resumed from its
last checkpoint in a new process, ends with weights bit-identical to an uninterrupted run."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap

import pytest
import torch
from safetensors.torch import load_file

from reti.train import latest_checkpoint

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import torch
    import torch.nn.functional as F
    from safetensors.torch import save_file
    from torch import nn
    from reti.train import TrainConfig, fit

    torch.set_num_threads(1)
    run_dir, kill_at, resume, out = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
    g = torch.Generator().manual_seed(0)
    X = torch.randn(80, 6, generator=g)
    y = (X @ torch.randn(6, 3, generator=g)).argmax(-1)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.Dropout(0.2), nn.ReLU(), nn.Linear(16, 3))
    calls = []

    def augment(x, y, generator):
        calls.append(1)
        if len(calls) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return x + 0.05 * torch.randn(x.shape, generator=generator), y

    cfg = TrainConfig(epochs=3, batch_size=8, lr=1e-2, weight_decay=0.01, schedule="cosine",
                      warmup_steps=3, ema_decay=0.9, checkpoint_every=4, device="cpu",
                      quiet=True)
    h = fit(model, (X, y), cfg, loss_fn=F.cross_entropy, batch_transform=augment,
            run_dir=run_dir, resume=resume, model_config={"hidden": 16})
    save_file({k: v.contiguous() for k, v in h.model.state_dict().items()}, out)
    """
)


def _start(script, *args) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, str(script), *map(str, args)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen) -> tuple[int, str]:
    _, err = proc.communicate(timeout=300)
    return proc.returncode, err


@pytest.mark.slow
def test_sigkill_then_resume_is_bit_identical(tmp_path):
    script = tmp_path / "train_once.py"
    script.write_text(SCRIPT)
    # 30 steps in all (10 per epoch), a checkpoint every 4: kill anywhere after the first one.
    kill_at = random.Random().randrange(6, 30)
    run_dir = tmp_path / "killed"
    whole = _start(script, tmp_path / "whole", 0, 0, tmp_path / "whole.safetensors")
    killed = _start(script, run_dir, kill_at, 0, tmp_path / "never.safetensors")
    code, err = _finish(whole)
    assert code == 0, err
    code, err = _finish(killed)
    assert code == -signal.SIGKILL, f"kill_at={kill_at}: {err}"
    assert not (tmp_path / "never.safetensors").exists()
    done = kill_at - 1  # steps finished before the kill; checkpoints every 4 and every epoch
    assert latest_checkpoint(run_dir).name == f"step-{max(done // 4 * 4, done // 10 * 10):07d}"

    code, err = _finish(_start(script, run_dir, 0, 1, tmp_path / "resumed.safetensors"))
    assert code == 0, err
    a = load_file(tmp_path / "whole.safetensors")
    b = load_file(tmp_path / "resumed.safetensors")
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), f"{name} differs after kill at step {kill_at}"
