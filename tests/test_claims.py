"""Claims: verdict rules, report rendering (markdown + self-contained HTML), the CLI."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from reti.claims import CLAIMS, Budget, Finding, run_claims, select
from reti.claims.base import FAILS, HOLDS, INCONCLUSIVE, compare, exact, spread, within
from reti.claims.report import write_report
from reti.cli.main import main
from reti.errors import ConfigError


def test_compare_rule_uses_seed_spread():
    assert compare([0.9, 0.91, 0.92], [0.80, 0.81, 0.82], higher_is_better=True) == HOLDS
    assert compare([0.80, 0.81, 0.82], [0.9, 0.91, 0.92], higher_is_better=True) == FAILS
    # gap 0.02 < spread 0.1: inconclusive
    assert compare([0.85, 0.95], [0.85, 0.91], higher_is_better=True) == INCONCLUSIVE
    assert compare([0.1, 0.1], [0.3, 0.3], higher_is_better=False) == HOLDS
    assert spread([3.0]) == 0.0 and spread([1.0, 4.0, 2.0]) == 3.0
    assert exact(10**12, 10**12) == HOLDS and exact(1, 2) == FAILS
    assert within(1.0, 1.05, 0.1) == HOLDS and within(1.0, 1.2, 0.1) == FAILS


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
    ((claim, finding, _),) = done
    assert finding.verdict == HOLDS
    md = (root / "report.md").read_text()
    assert "10^12" in md and "| 1 | parameter counts | holds |" in md
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
    figures = sum(f.figure is not None for _, f, _ in done)
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


def test_report_numbers_claims_as_the_list_does(tmp_path):
    findings = [(CLAIMS[6], Finding(HOLDS, "rule")), (CLAIMS[12], Finding(INCONCLUSIVE, "r"))]
    md, html = write_report(tmp_path, findings, "header")
    text = md.read_text()
    assert f"| 7 | {CLAIMS[6].name} | holds |" in text and f"## 7. {CLAIMS[6].name}" in text
    assert f"| 13 | {CLAIMS[12].name} | inconclusive |" in text and "## 1." not in text
    assert "<section id='c13'>" in html.read_text()


def test_report_escapes_text(tmp_path):
    claim = CLAIMS[0]
    finding = Finding(HOLDS, "a < b & c", [{"x": "<script>"}], "ok", None, "exp")
    _, html = write_report(tmp_path, [(claim, finding)], "header")
    text = html.read_text()
    assert "<script>" not in text and "&lt;script&gt;" in text


def test_cli_list_and_run(tmp_path, capsys):
    assert main(["claims", "list"]) == 0
    assert "parameter counts" in capsys.readouterr().out
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


@pytest.mark.network
@pytest.mark.parametrize("number", range(2, 10))
def test_vision_and_foundation_claims_run_end_to_end(number, tmp_path, monkeypatch):
    monkeypatch.setattr(Budget, "pick", lambda self, quick, full: _tiny(quick, full))
    monkeypatch.setattr(Budget, "seeds", property(lambda self: [0, 1]))
    claim = CLAIMS[number - 1]
    finding = claim.run(Budget(quick=True), tmp_path)
    assert finding.verdict in (HOLDS, FAILS, INCONCLUSIVE)
    assert finding.numbers and finding.experiment and finding.rule
    assert finding.figure.read_bytes()[:4] == b"\x89PNG"


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
