"""reti at home in Jupyter: importing reti (every module of it) and training a run never change
matplotlib's backend or its rcParams (a notebook's inline figures and the user's own
plt.show() keep working).

Runs in a fresh interpreter whose backend is set first (not Agg, so a stray
``matplotlib.use("Agg")`` anywhere in reti shows up as a changed backend)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import json, sys
import matplotlib
matplotlib.use(sys.argv[2])
def state():
    rc = {k: repr(v) for k, v in matplotlib.rcParams.items()}
    return {"backend": matplotlib.get_backend(), "rc": rc}
before = state()

import importlib, pkgutil
import torch
import torch.nn.functional as F
import reti, reti.viz, reti.train
from reti.train import TrainConfig, fit

for module in pkgutil.walk_packages(reti.__path__, "reti."):  # every module of reti
    if module.name != "reti.__main__":
        importlib.import_module(module.name)

gen = torch.Generator().manual_seed(0)
x = torch.randn(64, 4, generator=gen)
y = (x[:, 0] > 0).long()
history = fit(torch.nn.Linear(4, 2), (x, y), TrainConfig(epochs=2, batch_size=16, device="cpu",
    quiet=True), loss_fn=F.cross_entropy, val=(x, y), run_dir=sys.argv[1])
history.plot()
history._repr_html_()

after = state()
changed = sorted(k for k in before["rc"] if before["rc"][k] != after["rc"].get(k))
print(json.dumps({"before": before["backend"], "after": after["backend"], "changed": changed,
                  "curves": (__import__("pathlib").Path(sys.argv[1]) / "curves.png").is_file()}))
"""


def _run(tmp_path: Path, backend: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": ""}
    env.pop("MPLBACKEND")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "run"), backend],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_and_fit_leave_backend_and_rcparams_unchanged(tmp_path):
    result = _run(tmp_path, "svg")  # a non-interactive backend that is not Agg
    assert result["before"] == "svg"
    assert result["after"] == "svg", "something in reti switched matplotlib's backend"
    assert result["changed"] == [], f"reti changed rcParams: {result['changed']}"
    assert result["curves"]  # the run still drew its curves, with the figure's own savefig


def test_the_notebook_inline_backend_survives_too(tmp_path):
    inline = "module://matplotlib_inline.backend_inline"
    result = _run(tmp_path, inline)
    assert result["before"] == result["after"] == inline
    assert result["changed"] == []
