"""Pilots and confirmations: the power rule against hand-worked counts, the refusal of seeds a
pilot used, disjoint seed sets for ``--replicate K`` and the summary line of a replication."""

from __future__ import annotations

import pytest

from reti.claims import CLAIMS, run_claims
from reti.claims.base import CONFIRM_SEED, Budget, Claim, Finding
from reti.claims.power import MAX_SEEDS, distance_to_edge, half_width, plan, seeds_needed
from reti.claims.registry import number
from reti.claims.replicate import check_seeds, seed_sets, summary_line
from reti.claims.stats import HOLDS, INCONCLUSIVE, Effect, Pilot
from reti.cli.main import main
from reti.errors import ConfigError

UP = Effect("loss gap", "a", "b", 0.1, "0.1 nats")
SAME = Effect("accuracy", "a", "b", 0.02, "2 points", kind="equivalence")
DOWN = Effect("accuracy", "a", "b", 0.01, "1 point", higher=False)


def _pilot(mean: float, sd: float, n: int = 5) -> Pilot:
    return Pilot(tuple(range(n)), mean, sd, "constructed")


def test_power_rule_counts_by_hand():
    # d = 0.3 - 0.1 = 0.2, target 0.1; half-widths t(n-1) * 0.1 / sqrt(n):
    # n=3 0.2484, 4 0.1591, 5 0.1241, 6 0.1050, 7 0.0925 (2.447 * 0.1 / 2.6458) -> 7
    p = seeds_needed(UP, _pilot(0.3, 0.1), 12)
    assert (p.distance, p.target, p.n, p.met) == (pytest.approx(0.2), pytest.approx(0.1), 7, True)
    assert half_width(0.1, 6) == pytest.approx(0.10496, abs=1e-5) and half_width(0.1, 6) > 0.1
    assert p.expected_half_width == pytest.approx(0.092486, abs=1e-5)
    # equivalence: d = 0.02 - 0.005 = 0.015, target 0.0075; n=9 0.007687, n=10 0.007153 -> 10
    assert seeds_needed(SAME, _pilot(0.005, 0.01), 12).n == 10
    # claimed lower: mean -0.057 lies d = 0.047 beyond -0.01; n=8 0.02508, n=9 0.02306 -> 9
    assert seeds_needed(DOWN, _pilot(-0.057, 0.03), 12).n == 9


def test_power_rule_never_goes_below_three_seeds_and_reports_a_cap_it_could_not_meet():
    assert seeds_needed(UP, _pilot(10.0, 0.001), 12).n == 3  # t(1) = 12.7 is never planned
    capped = seeds_needed(UP, _pilot(0.11, 0.1), 12)  # d = 0.01: no n up to 12 reaches 0.005
    assert (capped.n, capped.met) == (12, False)
    with pytest.raises(ValueError, match="seed cap must be >= 3"):
        seeds_needed(UP, _pilot(0.3, 0.1), 2)


def test_distance_is_to_the_nearer_edge_of_the_band():
    assert distance_to_edge(UP, 0.158) == pytest.approx(0.058)
    assert distance_to_edge(UP, 0.03) == pytest.approx(0.07)  # inside the band: +0.1 is nearer
    assert distance_to_edge(DOWN, -0.057) == pytest.approx(0.047)


def test_pilot_from_diffs_and_from_a_recorded_interval():
    p = Pilot.from_diffs([0, 1, 2], [0.05, 0.04, 0.05], "by hand")
    assert (p.mean, p.sd) == (pytest.approx(0.0466667), pytest.approx(0.0057735))
    # [0.122, 0.195] of 5 seeds: half-width 0.0365 = 2.776 * sd / sqrt(5) -> sd 0.029401
    q = Pilot.from_interval(range(5), 0.158, 0.122, 0.195, "docs")
    assert q.sd == pytest.approx(0.029401, abs=1e-6) and q.seeds == (0, 1, 2, 3, 4)
    with pytest.raises(ValueError, match="one difference per seed"):
        Pilot.from_diffs([0, 1], [0.1], "short")
    with pytest.raises(ValueError, match="a pilot needs >= 2 seeds"):
        Pilot((0,), 0.1, 0.0, "one seed")


def test_a_claim_must_record_the_seeds_its_pilots_used():
    effect = Effect("x", "a", "b", 0.1, "r", quick_pilot=_pilot(0.3, 0.1))
    with pytest.raises(ValueError, match=r"ran seeds \[0, 1, 2, 3, 4\], not all recorded"):
        Claim("c", "s", 1, "q", "e", lambda b, o: None, (effect,), pilot_seeds=(0, 1))
    claim = Claim("c", "s", 1, "q", "e", lambda b, o: None, (effect,), tuple(range(5)))
    assert claim.seeded and claim.span(True) == 7 and claim.span(False) == 5  # full: no pilot


def test_every_compared_effect_has_a_pilot_at_both_budgets_and_a_count_by_the_rule():
    for claim in CLAIMS:
        for effect in claim.effects:
            for quick in (True, False):
                p = plan(effect, quick)
                assert p is not None, (claim.name, effect.figure, quick)
                assert 3 <= p.n <= MAX_SEEDS[quick]
                assert set(p.pilot.seeds) <= set(claim.pilot_seeds)
        budget = Budget(quick=True)
        for effect in claim.effects:  # a claim's run uses the rule's count for each effect
            assert len(budget.seeds_for(effect)) == plan(effect, True).n


def test_budget_seeds_for_an_effect_follow_the_rule():
    effect = Effect("x", "a", "b", 0.1, "r", quick_pilot=_pilot(0.3, 0.1))
    assert Budget(quick=True, seed=100).seeds_for(effect) == list(range(100, 107))
    assert Budget(quick=False, seed=100).seeds_for(effect) == list(range(100, 105))  # default 5
    assert Budget().seed == CONFIRM_SEED


@pytest.mark.parametrize("quick", [True, False])
def test_replicated_seed_sets_are_disjoint_and_miss_every_pilot(quick):
    check_seeds(CLAIMS, quick, CONFIRM_SEED, 3, number)  # the default run is allowed
    for claim in CLAIMS:
        sets = seed_sets(claim, quick, CONFIRM_SEED, 3)
        flat = [s for seeds in sets for s in seeds]
        assert len(flat) == len(set(flat)), claim.name
        assert not set(flat) & set(claim.pilot_seeds), claim.name
        assert len(sets) == (3 if claim.seeded else 1)
        assert all(len(seeds) == claim.span(quick) for seeds in sets)


def test_seeds_overlapping_a_pilot_are_refused_before_any_folder(tmp_path):
    out = tmp_path / "report"
    with pytest.raises(ConfigError) as err:
        run_claims(["dropout and overfitting"], seed=5, out=out, quiet=True)
    assert str(err.value).startswith("seeds 5-")
    assert "overlap the pilot seeds 0-7 of claim 8 'dropout and overfitting'" in str(err.value)
    assert "use --seed 8 or more" in str(err.value)
    assert not out.exists()
    # one shared seed is enough (claim 12 plans 3 seeds: 4-6 touch its pilot's 4, 5-7 do not);
    # an exact claim records no pilot: seed 0 is fine for it
    with pytest.raises(ConfigError, match="seeds 4-6 overlap the pilot seeds 0-4 of claim 12"):
        check_seeds([CLAIMS[11]], True, 4, 1, number)
    check_seeds([CLAIMS[11]], True, 5, 3, number)
    check_seeds([CLAIMS[0]], True, 0, 3, number)
    with pytest.raises(ConfigError, match="--replicate must be >= 1, got 0"):
        check_seeds([CLAIMS[0]], True, 100, 0, number)
    with pytest.raises(ConfigError, match="--seed must be >= 0, got -1"):
        check_seeds([CLAIMS[0]], True, -1, 1, number)


def test_cli_refuses_pilot_seeds_in_one_line(tmp_path, capsys):
    assert main(["claims", "run", "8", "--seed", "3", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reti: error: seeds 3-") and err.count("\n") == 1
    assert "pilot seeds 0-7" in err and not (tmp_path / "r").exists()


def test_summary_line():
    assert summary_line([HOLDS] * 3, "en") == "3/3 holds"
    assert summary_line([HOLDS, INCONCLUSIVE, HOLDS], "en") == (
        "2/3 holds, 1/3 inconclusive: unsettled"
    )
    assert summary_line([INCONCLUSIVE, HOLDS], "en") == "1/2 holds, 1/2 inconclusive: unsettled"
    assert summary_line([HOLDS] * 3, "it") == "3/3 vale"


def test_replicate_runs_disjoint_sets_and_reports_each(tmp_path, capsys):
    """Claim 12 (gradients at init, under a second a set) on 3 sets; claim 1 (exact) once."""
    out = tmp_path / "rep"
    assert main(["claims", "run", "1", "12", "--replicate", "3", "--out", str(out), "--quiet",
                 "--lang", "en"]) == 0  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["1.", "parameter", "counts", "holds"]
    assert [ln.split()[:3] for ln in lines[1:4]] == [
        ["set", "1,", "seeds"], ["set", "2,", "seeds"], ["set", "3,", "seeds"]
    ]  # fmt: skip
    assert "seeds 100-102" in lines[1] and "seeds 103-105" in lines[2]
    assert "seeds 106-108" in lines[3] and "3/3 holds" in lines[4]
    report = (out / "report.md").read_text()
    assert "| 12 | F(x) + x keeps gradients | 357 | 3/3 holds |" in report
    assert "- set 2, seeds 103-105: holds (+" in report
    assert "pilot on seeds 0-4" in report and "**n = 3**" in report
    assert (out / "set2" / "gradient.png").is_file() and (out / "set3" / "gradient.png").is_file()


def test_a_finding_keeps_its_plans_for_the_report(tmp_path):
    root, (outcome,) = run_claims(["12"], out=tmp_path, quiet=True)
    finding: Finding = outcome.finding
    assert [p.effect for p in finding.plans] == list(CLAIMS[11].effects)
    assert outcome.sets[0].seeds == [100, 101, 102] and finding.comparisons[0].seeds == [
        100, 101, 102
    ]  # fmt: skip
    assert "How many seeds" in (root / "report.html").read_text()
