"""verify.testing's contract: columns, estimator claims, planning, messages and bad input.

Every checker here is shown catching a wrong input; all samplers are seeded.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from verify.cases.case import CaseError
from verify.testing import Case, Formulas, Renamed, assert_estimator, check_estimator
from verify.testing import samples as samples_module

QUADRATIC = Case("z**2")
AT = {"mu": 1.0, "sigma": 1.0}


def quadratic_pathwise(n: int, seed: int) -> np.ndarray:
    """r = z^2: g = (2z, 2z eps); mean (2 mu, 2 sigma), variance (4 sigma^2, 4 mu^2 + 8 sigma^2)."""
    eps = np.random.default_rng(seed).standard_normal(n)
    z = AT["mu"] + AT["sigma"] * eps
    return np.column_stack([2 * z, 2 * z * eps])


def quadratic_score(n: int, seed: int) -> np.ndarray:
    eps = np.random.default_rng(seed).standard_normal(n)
    r = (AT["mu"] + AT["sigma"] * eps) ** 2
    return np.column_stack([r * eps, r * (eps**2 - 1)])


def test_the_result_carries_the_check_records_of_verify_check():
    result = check_estimator(quadratic_pathwise, QUADRATIC, estimator="pathwise", at=AT)
    assert result.passed
    assert [(c["statistic"], c["parameter"]) for c in result.checks] == [
        ("mean", "mu"),
        ("variance", "mu"),
        ("mean", "sigma"),
        ("variance", "sigma"),
        ("covariance", "mu,sigma"),
    ]
    assert {c["samples"] for c in result.checks} == {result.samples}
    assert [c["exact"] for c in result.checks] == [2.0, 4.0, 2.0, 12.0, 4.0]
    document = json.loads(result.to_json())
    assert document["alpha"] == 1e-6
    assert document["per_check_alpha"] == pytest.approx(1e-6 / 5)  # Bonferroni over the call


def test_the_planned_samples_detect_the_relative_error_asked_for():
    planned = check_estimator(quadratic_pathwise, QUADRATIC, estimator="pathwise", at=AT)
    means_and_variances = [v for k, v in planned.detectable.items() if "covariance" not in k]
    assert max(means_and_variances) <= 0.02  # relative_error's default
    finer = check_estimator(
        quadratic_pathwise, QUADRATIC, estimator="pathwise", at=AT, relative_error=0.01
    )
    assert finer.samples > planned.samples
    assert max(v for k, v in finer.detectable.items() if "covariance" not in k) <= 0.01
    fixed = check_estimator(
        quadratic_pathwise, QUADRATIC, estimator="pathwise", at=AT, samples=2**14
    )
    assert fixed.samples == 2**14
    assert fixed.detectable["variance.sigma"] > 0.02  # too few samples: it says so


def test_where_the_cap_binds_detectable_says_what_is_given_up():
    capped = check_estimator(
        quadratic_score, QUADRATIC, estimator="score", at=AT, max_samples=2**18
    )
    assert capped.samples == 2**18
    assert capped.passed
    assert capped.detectable["variance.sigma"] > 0.02
    few = check_estimator(quadratic_score, QUADRATIC, estimator="score", at=AT, samples=2**14)
    assert few.detectable["variance.mu"] == float("inf")  # no error below 99% is seen
    assert json.loads(few.to_json())["detectable"]["variance.mu"] == "inf"
    assert "variance.mu inf" in few.summary()


def test_a_wrong_variance_is_caught_and_the_message_names_everything():
    def too_noisy(n: int, seed: int) -> np.ndarray:
        rows = quadratic_pathwise(n, seed)
        noise = np.random.default_rng(seed + 1).standard_normal(n)
        rows[:, 1] += 0.6 * noise  # unbiased, but 3% more variance in sigma (12.36)
        return rows

    with pytest.raises(AssertionError) as raised:
        assert_estimator(too_noisy, QUADRATIC, estimator="pathwise", at=AT)
    header, line = str(raised.value).splitlines()
    assert header.startswith("verify.testing: estimator 'pathwise' for r = z**2 at mu=1, sigma=1")
    assert "false-alarm rate 1e-06 per call, Bonferroni over 5 checks" in header
    assert line.startswith("  variance of sigma: exact 12, empirical 12.3")
    assert "outside [-5.1" in line
    assert "threshold |z| <= 5.199" in line
    result = check_estimator(too_noisy, QUADRATIC, estimator="pathwise", at=AT)
    assert result.summary().startswith("pathwise: FAILED 1 of 5 checks with ")


def test_a_renamed_estimator_is_checked_as_ours_under_its_own_name():
    reinforce = Renamed("reinforce", like="score")
    result = assert_estimator(quadratic_score, QUADRATIC, estimator=reinforce, at=AT)
    assert {c["estimator"] for c in result.checks} == {"reinforce"}
    wrong = Renamed("reinforce", like="pathwise")
    with pytest.raises(AssertionError, match=r"estimator 'reinforce'.*\n  variance of mu"):
        assert_estimator(quadratic_score, QUADRATIC, estimator=wrong, at=AT)


QUADRATIC_PATHWISE = {
    "mean": {"mu": "2*mu", "sigma": "2*sigma"},
    "variance": {"mu": "4*sigma**2", "sigma": "4*mu**2 + 8*sigma**2"},
}


def test_formulas_check_a_users_estimator_and_catch_a_wrong_formula():
    own = Formulas("my_pathwise", **QUADRATIC_PATHWISE)
    result = assert_estimator(quadratic_pathwise, QUADRATIC, estimator=own, at=AT)
    tests = {(c["statistic"], c["parameter"]): c.get("test") for c in result.checks}
    assert tests[("mean", "mu")] == "median_of_means"  # no third moment: distribution-free
    skipped = [c for c in result.checks if c["passed"] is None]
    assert [c["statistic"] for c in skipped] == ["variance", "variance", "covariance"]
    assert "Formulas.fourth" in skipped[0]["reason"]
    # With the fourth central moments the variance is checked too (by median of means:
    # no sixth moment is given).
    fourth = Formulas(
        "my_pathwise",
        **QUADRATIC_PATHWISE,
        fourth={"mu": "48*sigma**4", "sigma": "48*(mu**4 + 20*mu**2*sigma**2 + 20*sigma**4)"},
    )
    result = assert_estimator(quadratic_pathwise, QUADRATIC, estimator=fourth, at=AT)
    assert [c["passed"] for c in result.checks] == [True] * 4 + [None]
    wrong_mean = Formulas(
        "my_pathwise", **{**QUADRATIC_PATHWISE, "mean": {"mu": "2.1*mu", "sigma": "2*sigma"}}
    )
    with pytest.raises(AssertionError, match=r"mean of mu: exact 2\.1"):
        assert_estimator(quadratic_pathwise, QUADRATIC, estimator=wrong_mean, at=AT)
    variance = {"mu": "4*sigma**2", "sigma": "4*mu**2 + 9*sigma**2"}  # sigma's is 13, not 12
    wrong = Formulas("my_pathwise", QUADRATIC_PATHWISE["mean"], variance, fourth=fourth.fourth)
    with pytest.raises(AssertionError, match="variance of sigma: exact 13"):
        assert_estimator(quadratic_pathwise, QUADRATIC, estimator=wrong, at=AT)


def test_formulas_go_through_the_allow_list_parser():
    hostile = Formulas("x", {"mu": "__import__('os').system('ls')", "sigma": "0"}, {})
    with pytest.raises(CaseError, match=r"^<custom>: estimator\.mean\.mu: "):
        check_estimator(quadratic_pathwise, QUADRATIC, estimator=hostile, at=AT)
    unknown = Formulas("x", {"mu": "2*mu", "theta": "1"}, {})
    with pytest.raises(CaseError, match=r"estimator\.mean\.theta: not a component"):
        check_estimator(quadratic_pathwise, QUADRATIC, estimator=unknown, at=AT)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"estimator": "reparam"}, r"estimator: 'reparam' is not an estimator verify derives"),
        ({"estimator": "pathwise", "samples": 100}, r"samples: 100 is too few"),
        ({"estimator": "pathwise", "alpha": 0.0}, r"alpha: 0.0 must be in \(0, 1\)"),
        ({"estimator": "pathwise", "at": {"mu": 1, "sigma": -1}}, r"at: sigma: sigma must be > 0"),
    ],
)
def test_bad_input_is_one_line_naming_the_field(arguments, message):
    with pytest.raises(CaseError, match=message):
        check_estimator(quadratic_pathwise, QUADRATIC, **{"at": AT, **arguments})


def test_a_sampler_of_the_wrong_shape_is_refused_naming_the_columns():
    def one_column(n: int, seed: int) -> np.ndarray:
        return quadratic_pathwise(n, seed)[:, 0]

    with pytest.raises(
        ValueError, match=r"expected \(\d+, 2\): one row per sample, the columns mu, sigma"
    ):
        check_estimator(one_column, QUADRATIC, estimator="pathwise", at=AT)


class FakeTensor:
    """What the adapter asks of a torch tensor: detach().cpu().numpy()."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values.astype(np.float32)

    def detach(self) -> FakeTensor:
        return self

    def cpu(self) -> FakeTensor:
        return self

    def numpy(self) -> np.ndarray:
        return self.values


def test_tensors_are_detached_and_read_as_float64():
    result = assert_estimator(
        lambda n, seed: FakeTensor(quadratic_pathwise(n, seed)),
        QUADRATIC,
        estimator="pathwise",
        at=AT,
    )
    assert result.passed


def test_large_samples_are_asked_for_in_independent_calls(monkeypatch):
    monkeypatch.setattr(samples_module, "CALL_ROWS", 2**14)
    calls: list[tuple[int, int]] = []

    def recorded(n: int, seed: int) -> np.ndarray:
        calls.append((n, seed))
        return quadratic_pathwise(n, seed)

    result = check_estimator(recorded, QUADRATIC, estimator="pathwise", at=AT, samples=40_000)
    assert [n for n, _ in calls] == [2**14, 2**14, 40_000 - 2**15]
    assert len({seed for _, seed in calls}) == 3  # distinct seeds: independent chunks
    assert result.passed

    def repeated(n: int, seed: int) -> np.ndarray:  # ignores the seed: every call the same rows
        return quadratic_pathwise(n, 0)

    assert check_estimator(repeated, QUADRATIC, estimator="pathwise", at=AT, samples=40_000).passed


def test_an_explicit_dimension_has_columns_mu1_to_sigmad_each_pair_checked():
    case = Case("z1*z2", dimension=2)
    at = {"mu1": 0.5, "mu2": -1.0, "sigma": 1.0}

    def pathwise(n: int, seed: int) -> np.ndarray:
        eps = np.random.default_rng(seed).standard_normal((n, 2))
        z = np.array([at["mu1"], at["mu2"]]) + eps
        gradient = z[:, ::-1]  # dr/dz1 = z2, dr/dz2 = z1
        return np.column_stack([gradient, gradient * eps])  # mu1, mu2, sigma1, sigma2

    result = assert_estimator(pathwise, case, estimator="pathwise", at=at)
    assert result.components == ("mu1", "mu2", "sigma1", "sigma2")
    assert [c["parameter"] for c in result.checks][:5] == ["mu1"] * 2 + ["sigma1"] * 2 + [
        "mu1,sigma1"
    ]
    assert json.loads(result.to_json())["per_check_alpha"] == pytest.approx(1e-6 / 10)

    def swapped(n: int, seed: int) -> np.ndarray:
        return pathwise(n, seed)[:, [1, 0, 2, 3]]

    failing = check_estimator(swapped, case, estimator="pathwise", at=at)
    assert ("mean", "mu1") in [(c["statistic"], c["parameter"]) for c in failing.failures]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sampler", "estimator"), [(quadratic_pathwise, "pathwise"), (quadratic_score, "score")]
)
def test_the_false_alarm_rate_per_call_is_at_most_alpha(sampler, estimator):
    """A correct estimator over 200 seeds at alpha = 0.2: at most 20% of the calls fail
    (Bonferroni is conservative; measured 31 and 22 of 200), and some do, so the
    threshold is not vacuous."""
    failures = sum(
        not check_estimator(
            sampler, QUADRATIC, estimator=estimator, at=AT, samples=2**15, seed=seed, alpha=0.2
        ).passed
        for seed in range(200)
    )
    assert 0 < failures <= 0.2 * 200 + 3 * (0.2 * 0.8 * 200) ** 0.5


def test_what_is_not_supported_says_so_in_one_line():
    phi = Case.from_file(
        Path(__file__).resolve().parent.parent / "cases" / "linear_gaussian_phi.toml"
    )
    at = {"w": 1, "b": 0, "v": 0, "c": 0, "x": 0.5}
    with pytest.raises(CaseError, match=r"at: a point in phi is not supported"):
        check_estimator(quadratic_pathwise, phi, estimator="pathwise", at=at)
    own = Formulas("mine", **QUADRATIC_PATHWISE)
    explicit = Case("z1*z2", dimension=2)
    with pytest.raises(CaseError, match=r"estimator: Formulas are for one-dimensional cases"):
        check_estimator(quadratic_pathwise, explicit, estimator=own, at={"mu": 0, "sigma": 1})
