"""Claims: verdict rules, report rendering (markdown + self-contained HTML), the CLI."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from reti.claims import CLAIMS, Budget, Finding, run_claims, select
from reti.claims.base import FAILS, HOLDS, INCONCLUSIVE, exact, within
from reti.claims.replicate import Outcome, SeedSet
from reti.claims.report import write_report
from reti.claims.runner import stderr_progress
from reti.claims.stats import Effect, compare_arms
from reti.cli.main import main
from reti.errors import ConfigError


def test_exact_rules():
    assert exact(10**12, 10**12) == HOLDS and exact(1, 2) == FAILS
    assert within(1.0, 1.05, 0.1) == HOLDS and within(1.0, 1.2, 0.1) == FAILS


def test_at_least_twenty_claims_in_the_order_of_the_notes_each_citing_its_line():
    notes_lines = [c.line for c in CLAIMS]
    assert len(CLAIMS) >= 20 and notes_lines == sorted(notes_lines)
    assert len({c.name for c in CLAIMS}) == len(CLAIMS)
    for claim in CLAIMS:  # a compared claim names its effects, each with a reason
        for effect in claim.effects:
            assert effect.smallest > 0 and effect.reason and effect.figure


def test_finding_rejects_unknown_verdict():
    with pytest.raises(ValueError, match="verdict must be one of"):
        Finding("probably", "rule")


def test_select_by_name_and_number_and_unknown():
    assert select(["1"])[0] is CLAIMS[0]
    assert select([CLAIMS[1].name]) == [CLAIMS[1]]
    with pytest.raises(ConfigError, match="unknown claim 'nope'"):
        select(["nope"])


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.imgs, self.open = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.imgs.append(dict(attrs)["src"])
        elif tag not in ("meta", "br"):
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()


def test_parameter_claim_report_renders(tmp_path):
    root, done = run_claims(["parameter counts"], quick=True, out=tmp_path, quiet=True)
    ((claim, finding),) = [(o.claim, o.finding) for o in done]
    assert finding.verdict == HOLDS
    md = (root / "report.md").read_text()
    assert "10^12" in md and "| 1 | parameter counts | 38 | holds |" in md
    assert (root / "params.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (root / "report.html").read_text()
    parser = _Collect()
    parser.feed(html)
    assert parser.open == ["html"] or parser.open == []  # everything closed but maybe <html>
    assert parser.imgs and parser.imgs[0].startswith("data:image/png;base64,")
    assert "lang='it'" in html and "holds" in html


# Debian's chromium (.ci/run installs it where apt can); flags for a closed network, as root.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_CHROMIUM_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync "
    "--virtual-time-budget=10000"
).split()
# appended to a copy of the report: after load, the title says how many images decoded
_COUNT_IMAGES = (
    "<script>addEventListener('load', () => { const i = [...document.images]; "
    "document.title = 'decoded ' + i.filter(e => e.complete && e.naturalWidth > 0).length "
    "+ ' of ' + i.length + ' sections ' + document.querySelectorAll('section').length; });"
    "</script>"
)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_report_html_renders_in_headless_chromium(tmp_path):
    root, done = run_claims(["1", "standard scaling"], quick=True, out=tmp_path, quiet=True)
    page = tmp_path / "probe.html"
    page.write_text((root / "report.html").read_text() + _COUNT_IMAGES)
    profile = tmp_path / "profile"
    dom = subprocess.run(
        [CHROMIUM, *_CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    found = re.search(r"<title>decoded (\d+) of (\d+) sections (\d+)</title>", dom)
    assert found, dom[:500]
    decoded, images, sections = map(int, found.groups())
    figures = sum(o.finding.figure is not None for o in done)
    assert (decoded, images, sections) == (figures, figures, 2) and figures >= 1
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            CHROMIUM,
            *_CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={shot}",
            "--window-size=1000,2400",
            (root / "report.html").as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _once(claim, finding) -> Outcome:
    """A claim run on one seed set (seeds 100-102)."""
    return Outcome(claim, [SeedSet([100, 101, 102], finding, 0.0)])


def test_report_numbers_claims_as_the_list_does(tmp_path):
    findings = [
        _once(CLAIMS[6], Finding(HOLDS, "rule")),
        _once(CLAIMS[12], Finding(INCONCLUSIVE, "r")),
    ]
    md, html = write_report(tmp_path, findings, "header")
    text = md.read_text()
    c7, c13 = CLAIMS[6], CLAIMS[12]
    assert f"| 7 | {c7.name} | {c7.line} | holds |" in text and f"## 7. {c7.name}" in text
    assert f"| 13 | {c13.name} | {c13.line} | inconclusive |" in text and "## 1." not in text
    assert "<section id='c13'>" in html.read_text()


def test_report_escapes_text(tmp_path):
    claim = CLAIMS[0]
    finding = Finding(HOLDS, "a < b & c", [{"x": "<script>"}], "ok", None, "exp")
    _, html = write_report(tmp_path, [_once(claim, finding)], "header")
    text = html.read_text()
    assert "<script>" not in text and "&lt;script&gt;" in text


def test_cli_list_and_run(tmp_path, capsys):
    assert main(["claims", "list", "--lang", "en"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[1].split()[:4] == ["1.", "38", "parameter", "counts"]  # number, notes line
    assert len(listed) == len(CLAIMS) + 1
    assert main(["claims", "run", "1", "--out", str(tmp_path), "--quiet"]) == 0
    assert "holds" in capsys.readouterr().out
    assert main(["claims", "run", "nope", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reti: error: unknown claim") and err.count("\n") == 1


def test_budget_seeds():
    assert len(Budget(quick=True).seeds) == 3 and len(Budget(quick=False).seeds) == 5


def _tiny(quick, full):
    """A smoke budget: integers shrunk to a tenth (at least 1), anything else as in quick."""
    if isinstance(quick, int) and not isinstance(quick, bool):
        return max(1, quick // 10)
    return quick


EXPERIMENTS = [
    "max pooling and translation", "dropout and overfitting", "dropout modes agree",
    "depth: plain vs residual", "standard scaling", "BN inference statistics",
    "batch norm with tiny batches", "augmentation reduces overfitting",
]  # fmt: skip


@pytest.mark.network
@pytest.mark.parametrize("name", EXPERIMENTS)
@pytest.mark.usefixtures("one_thread")
def test_experiment_claims_run_end_to_end(name, tmp_path, monkeypatch):
    from reti.claims import dropout, vision

    monkeypatch.setattr(Budget, "pick", lambda self, quick, full: _tiny(quick, full))
    monkeypatch.setattr(Budget, "seeds_for", lambda self, *effects: [0, 1])
    for module, names in ((dropout, ("EPOCHS",)), (vision, ("EPOCHS",))):
        for attr in names:
            monkeypatch.setattr(module, attr, 2)
    monkeypatch.setattr(dropout, "N_SMALL", 200)
    monkeypatch.setattr(vision, "N_SMALL", 200)
    (claim,) = select([name])
    finding = claim.run(Budget(quick=True), tmp_path)
    assert finding.verdict in (HOLDS, FAILS, INCONCLUSIVE)
    assert finding.numbers and finding.experiment and finding.rule
    assert finding.figure.read_bytes()[:4] == b"\x89PNG"
    judged = [c.effect for c in finding.comparisons][: len(claim.effects)]
    assert judged == list(claim.effects)  # design checks may follow, not judged
    for c in finding.comparisons:  # per-seed values of both arms reach the report
        assert len(c.a) == len(c.b) == 2 and c.interval.paired


def test_layer_norm_accuracy_does_not_depend_on_the_batch_size():
    import torch

    from reti.claims.normalization import _acc_with_batch_stats, _net

    torch.manual_seed(0)
    x, y = torch.randn(300, 64), torch.randint(0, 10, (300,))
    ln, bn = _net("layer"), _net("batch")
    assert _acc_with_batch_stats(ln, x, y, 2) == _acc_with_batch_stats(ln, x, y, 64)
    before = {k: v.clone() for k, v in bn.state_dict().items()}
    _acc_with_batch_stats(bn, x, y, 2)
    assert all(torch.equal(before[k], v) for k, v in bn.state_dict().items())  # stats restored


def test_italian_report_of_claims_1_and_2(tmp_path, capsys):
    assert main(["claims", "run", "1", "2", "--quick", "--lang", "it", "--out", str(tmp_path),
                 "--quiet"]) == 0  # fmt: skip
    assert "vale" in capsys.readouterr().out
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert md.startswith("# Gli appunti, eseguiti") and "La regola (scritta prima" in md
    assert "| # | affermazione | riga degli appunti | verdetto |" in md
    assert "## 1. parameter counts — **vale**" in md and "**Esperimento.**" in md
    assert "Un layer fully connected richiede 10^12 pesi" in md  # the statement in Italian
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<html lang='it'>" in html and ">vale</span>" in html
    assert main(["claims", "run", "1", "--lang", "en", "--out", str(tmp_path), "--quiet"]) == 0
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert md.startswith("# The notes, executed") and "— **holds**" in md and "**vale**" not in md


def test_finding_repr_html_shows_verdict_interval_numbers_and_figure(tmp_path):
    (root, [outcome]) = run_claims(["filters make channels"], out=tmp_path, quiet=True)
    finding = outcome.finding
    effect = Effect("test accuracy", "with", "without", 0.01, "one point")
    finding.comparisons = [compare_arms(effect, [0.9, 0.92], [0.8, 0.81], paired=True)]
    html = finding._repr_html_()
    assert ">holds</span>" in html and "data:image/png;base64," in html
    assert "95% interval [" in html and "0.9, 0.92" in html  # the per-seed values and the CI
    assert "<table>" in html and "output shape" in html


class _Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


def test_progress_is_plain_lines_off_a_terminal(tmp_path):
    stream = _Pipe()
    run_claims(["1", "5"], out=tmp_path, progress=stderr_progress(stream))
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue() and len(lines) == 2
    assert lines[0].startswith("[1/2] parameter counts: holds (")
    assert lines[1].startswith("[2/2] pooling halves 224 to 112: holds (")


def test_claims_leave_matplotlib_alone(tmp_path):
    code = (
        "import matplotlib; matplotlib.use('svg'); before = dict(matplotlib.rcParams)\n"
        "from reti.claims import run_claims\n"
        f"run_claims(['1', '3'], out={str(tmp_path)!r}, quiet=True)\n"
        "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend()\n"
        "assert dict(matplotlib.rcParams) == before\n"
        "import sys; assert 'reti.viz' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
