"""Certified sign regions (verify.regions): each check shown catching a wrong input.

- an undecided ball comparison is never read as a decision (python-flint's ``<`` and ``>``
  are both False for a ball that straddles 0);
- a variance formula perturbed by 1e-6 flips a box the true formula proves;
- an island where the score function wins, smaller than a cell of the 41 x 36 report
  grid, is found by the regions and missed by the grid;
- the crossover of cos(k z) at mu = sigma = 1 along k lies in a reported undecided
  interval of width <= 1e-6, located independently here by mpmath quadrature.
"""

from __future__ import annotations

import json

import mpmath
import numpy as np
import pytest
import sympy
from flint import arb

import verify
from verify.analysis.maps import log_variance_ratio_grid
from verify.analysis.regions import (
    UNDECIDED,
    Region,
    RegionSearch,
    VarianceForm,
    closed_form_labeller,
    crossings,
    search_regions,
    variance_form,
)
from verify.api.case import Case
from verify.api.regions import regions
from verify.cases.symbols import MU, SIGMA, Z, parameter_symbol
from verify.cli import EXIT_BAD_INPUT, main
from verify.exact.box_enclosure import certified_sign
from verify.exact.derivation import derive

K = parameter_symbol("k")
# Every search here ends at its size limit, never at a time budget, so no outcome
# depends on the machine's speed.
NO_LIMIT = 3600.0
REPORT_GRID = (np.linspace(-2.0, 2.0, 41), np.linspace(0.2, 2.0, 36))


def test_a_straddling_ball_is_undecided_not_false() -> None:
    straddling = arb(0, 1)
    # The trap: both comparisons are False, so `not (ball < 0)` would read as ">= 0".
    assert not (straddling < 0)
    assert not (straddling > 0)
    assert certified_sign(straddling) is None
    assert certified_sign(arb(-1, 0.5)) == -1
    assert certified_sign(arb(1, 0.5)) == 1


def test_boxes_touching_a_zero_are_never_labelled() -> None:
    # Var[first] - Var[second] = mu - 1/3 vanishes at mu = 1/3, which no float box edge
    # equals: every box that reaches it must stay undecided.
    forms = (VarianceForm(MU, ()), VarianceForm(sympy.Rational(1, 3), ()))
    domain = ((-1.0, 1.0), (1.0, 1.0))
    labeller = closed_form_labeller(("a", "b"), forms, (MU, SIGMA), domain)
    search = search_regions(labeller, domain, 2.0**-20, NO_LIMIT)
    for region in search.regions:
        low, high = region.box[0]
        if low <= 1 / 3 <= high:
            assert region.label == UNDECIDED
        else:
            assert region.label == ("a" if high < 1 / 3 else "b")
    [crossing] = crossings(search, 0, ("a", "b"))
    assert crossing.interval[0] < 1 / 3 < crossing.interval[1]
    assert (crossing.below, crossing.above) == ("a", "b")


def test_a_box_budget_stops_the_search_at_the_same_regions_every_time() -> None:
    # The zero at mu = 1/3 needs ~20 bisections per side to reach 2^-20; a budget of 7
    # boxes stops far short.  What is left is undecided, and a rerun gives the very same
    # boxes (a time budget would not: reports use this one).
    forms = (VarianceForm(MU, ()), VarianceForm(sympy.Rational(1, 3), ()))
    domain = ((-1.0, 1.0), (1.0, 1.0))
    labeller = closed_form_labeller(("a", "b"), forms, (MU, SIGMA), domain)
    first = search_regions(labeller, domain, 2.0**-20, NO_LIMIT, max_boxes=7)
    again = search_regions(labeller, domain, 2.0**-20, NO_LIMIT, max_boxes=7)
    assert first.boxes_examined == 7
    assert first.budget_spent
    assert first.regions == again.regions
    assert any(region.label == UNDECIDED for region in first.regions)
    unlimited = search_regions(labeller, domain, 2.0**-20, NO_LIMIT)
    assert unlimited.boxes_examined > 7
    assert not unlimited.budget_spent


def test_enough_ends_a_search_once_its_undecided_share_is_small_and_not_before() -> None:
    # mu vs 1/3 on [-1, 1]: after n bisections toward the zero the undecided share is
    # 2^-n, so a search that may stop at 1/64 after 3 boxes stops at exactly 1/64 (the
    # seventh box), one allowed to stop at 1/2 after 3 boxes stops at the third, and the
    # share is never read before the boxes are examined.
    forms = (VarianceForm(MU, ()), VarianceForm(sympy.Rational(1, 3), ()))
    domain = ((-1.0, 1.0), (1.0, 1.0))
    labeller = closed_form_labeller(("a", "b"), forms, (MU, SIGMA), domain)

    def undecided(search: RegionSearch) -> float:
        regions = search.regions
        width = sum(r.box[0][1] - r.box[0][0] for r in regions if r.label == UNDECIDED)
        return float(width / 2)

    small = search_regions(labeller, domain, 2.0**-20, NO_LIMIT, 1000, enough=(3, 1 / 64))
    assert undecided(small) == 1 / 64
    assert small.boxes_examined < 1000
    early = search_regions(labeller, domain, 2.0**-20, NO_LIMIT, 1000, enough=(3, 1 / 2))
    assert early.boxes_examined == 3
    assert undecided(early) > 1 / 64
    capped = search_regions(labeller, domain, 2.0**-20, NO_LIMIT, 5, enough=(3, 2.0**-40))
    assert capped.boxes_examined == 5


def _cosine_labels(perturbation: float) -> list[Region]:
    """The proven regions of score vs pathwise (mu) along k at mu = sigma = 1."""
    derivation = derive(sympy.cos(K * Z))
    point = {MU: sympy.Integer(1), SIGMA: sympy.Integer(1)}
    forms = []
    for name in ("score", "pathwise"):
        form = variance_form(derivation, name, "mu")
        assert form is not None
        forms.append(VarianceForm(form.value.xreplace(point), form.divergence))
    shifted = VarianceForm(forms[1].value + sympy.Float(perturbation), forms[1].divergence)
    domain = ((1.0, 1.0), (1.0, 1.0), (1.0, 1.13))
    labeller = closed_form_labeller(
        ("score", "pathwise"), (forms[0], shifted), (MU, SIGMA, K), domain
    )
    return list(search_regions(labeller, domain, 2.0**-24, NO_LIMIT).regions)


def test_a_formula_perturbed_by_1e_6_flips_a_proven_box() -> None:
    true = _cosine_labels(0.0)
    perturbed = _cosine_labels(1e-6)
    flipped = [
        (a, b)
        for a in true
        for b in perturbed
        if {a.label, b.label} == {"score", "pathwise"}
        and a.box[2][0] < b.box[2][1]
        and b.box[2][0] < a.box[2][1]
    ]
    assert flipped, "the regions do not tell the formula from one 1e-6 off"


def _island_case() -> Case:
    # cos(k (z - c)): pathwise wins everywhere for k < 0.4255767; just above, the score
    # function wins on a sliver at the edge sigma = 2, about 0.07 wide in mu and 2e-4
    # deep, around mu = c = 0.05, between the grid's nodes mu = 0 and mu = 0.1.
    return Case("cos(k*(z - c))", parameters={"k": [0.42563], "c": [0.05]})


def test_an_island_smaller_than_a_grid_cell_is_found_and_the_grid_misses_it() -> None:
    case = _island_case()
    grid = log_variance_ratio_grid(derive(case.r), "mu", {"k": 0.42563, "c": 0.05}, *REPORT_GRID)
    assert np.all(grid < 0), "the grid sees the island: it is not below the grid's resolution"
    result = regions(case, min_width=2.0**-12, time_limit=NO_LIMIT)
    share = result.share("mu")
    assert share["score"] > 0
    score_boxes = [r.box for r in result.rows[0].searches["mu"].regions if r.label == "score"]
    assert score_boxes
    low = min(box[0][0] for box in score_boxes)
    high = max(box[0][1] for box in score_boxes)
    assert low > 0.0
    assert high < 0.1
    assert min(box[1][0] for box in score_boxes) > 2.0 - 1.8 / 35  # within one grid row


def _oracle_crossover(parameter: str) -> mpmath.mpf:
    """k where the two variances of cos(k z) are equal at mu = sigma = 1, by quadrature."""

    def variance(k: mpmath.mpf, estimator: str) -> mpmath.mpf:
        def sample(e: mpmath.mpf) -> mpmath.mpf:
            z = 1 + e
            if estimator == "score":
                weight = e if parameter == "mu" else e**2 - 1
                return mpmath.cos(k * z) * weight
            weight = 1 if parameter == "mu" else e
            return -k * mpmath.sin(k * z) * weight

        def moment(power: int) -> mpmath.mpf:
            density = lambda e: mpmath.npdf(e)  # noqa: E731
            # Beyond |eps| = 12 the normal density is below 1e-31: negligible here.
            return mpmath.quad(lambda e: sample(e) ** power * density(e), [-12, 0, 12])

        return moment(2) - moment(1) ** 2

    with mpmath.workdps(15):
        return mpmath.findroot(lambda k: variance(k, "score") - variance(k, "pathwise"), 1.1)


@pytest.mark.parametrize("parameter", ["mu", "sigma"])
def test_the_cosine_crossover_along_k_is_enclosed_to_1e_6(parameter: str) -> None:
    case = Case("cos(k*z)", parameters={"k": [0.5, 5.0]})
    result = regions(
        case, vary="k", at={"mu": 1, "sigma": 1}, range=(0.5, 5.0), time_limit=NO_LIMIT
    )
    [crossing] = result.crossings(parameter)
    low, high = crossing.interval
    assert high - low <= 1e-6
    assert low < _oracle_crossover(parameter) < high
    assert (crossing.below, crossing.above) == ("pathwise", "score")


def test_identical_variances_are_equal_and_different_ones_are_not() -> None:
    constant = Case("c", parameters={"c": [2.0]})
    same = regions(constant, compare=("pathwise", "score_baseline_mean"), time_limit=NO_LIMIT)
    assert same.share("mu")["equal"] == 1.0
    differ = regions(constant, time_limit=NO_LIMIT)  # score's c**2/sigma**2 against pathwise's 0
    assert differ.share("mu")["pathwise"] == 1.0


def test_divergent_variances_keep_their_meaning() -> None:
    # exp(a z**2): both second moments diverge once 2 a sigma**2 >= 1/2 (sigma >= 1 at
    # a = 1/4), and stay finite below.
    domain = {"mu": [-1.0, 1.0], "sigma": [0.25, 1.75]}
    case = Case("exp(a*z**2)", parameters={"a": [0.25]}, domain=domain)
    result = regions(case, min_width=2.0**-6, time_limit=NO_LIMIT)
    labels = {r.label for r in result.rows[0].searches["mu"].regions}
    assert labels <= {"infinite", "pathwise", "score", "undecided"}
    assert result.share("mu")["infinite"] >= 0.45  # sigma from 1 to 1.75 of 0.25 to 1.75
    for region in result.rows[0].searches["mu"].regions:
        sigma_low, sigma_high = region.box[1]
        if region.label == "infinite":
            assert sigma_low >= 1.0
        elif region.label != "undecided":
            assert sigma_high <= 1.0


def test_the_json_contract_and_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "regions",
            "cases/cosine.toml",
            "--vary",
            "k",
            "--range",
            "0.5:5",
            "--at",
            "mu=1",
            "--at",
            "sigma=1",
            "--json",
        ]
    )
    assert code == 0
    record = json.loads(capsys.readouterr().out)
    assert record["compare"] == ["score", "pathwise"]
    assert set(record["domain"]) == {"mu", "sigma", "k"}
    for component in ("mu", "sigma"):
        entry = record["components"][component]
        assert set(entry["share"]) >= {"score", "pathwise", "equal", "undecided"}
        assert abs(sum(entry["share"].values()) - 1) < 1e-12
        assert all(set(b) == {"mu", "sigma", "k", "lower"} for b in entry["boxes"])
        assert len(entry["crossings"]) == 1
    assert isinstance(record["seconds"], float)
    bad = main(["regions", "cases/cosine.toml", "--at", "k=1", "--compare", "score,nope"])
    assert bad == EXIT_BAD_INPUT
    assert "compare" in capsys.readouterr().err
    assert main(["regions", "cases/cosine.toml", "--vary", "k"]) == EXIT_BAD_INPUT


def test_explicit_coordinates_are_searched_over_a_common_shift_and_scale() -> None:
    # Each component of cos(z1 + 2 z2) gets its regions (mu_i = mu, sigma_i = sigma); the
    # oracle is the engine's exact evaluation at the centres of six decided boxes each,
    # so a labeller that swapped the estimators or mixed up coordinates fails here.
    case = "cases/explicit_coupled_cosine.toml"
    result = regions(case, max_boxes=2000).to_dict()
    assert set(result["components"]) == {"mu1", "mu2", "sigma1", "sigma2"}
    for component, entry in result["components"].items():
        decided = [b for b in entry["boxes"] if b["lower"] in ("score", "pathwise")]
        assert decided
        assert entry["share"]["undecided"] < 0.01
        for box in decided[:: max(len(decided) // 6, 1)]:
            mu, sigma = (sum(box[n]) / 2 for n in ("mu", "sigma"))
            point = {"mu1": mu, "mu2": mu, "sigma1": sigma, "sigma2": sigma}
            evaluation = verify.evaluate(case, **point)
            score, pathwise = (evaluation.variance(e, component) for e in ("score", "pathwise"))
            assert (score < pathwise) == (box["lower"] == "score"), (component, box)
