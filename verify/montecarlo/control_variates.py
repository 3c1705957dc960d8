"""Control variates with exactly known means for the variance checks.

The contract:

- **Where.**  Streams whose sample is a function of iid standard normal eps only: a
  product or baseline estimator in one coordinate, ``g = (f(eps) - b) w(eps)`` (score,
  pathwise and the three baselines), and score_loo in one coordinate (M eps per
  estimate); not the measure-valued estimators, a symbolic d or an explicit r(z1..zd).
  Only where the expectations below have closed forms (else the plain check), and only
  for a stream whose plain checks fall short of the target power at the fewest samples
  it may draw (:func:`verify.montecarlo.sample_size.falls_short`): elsewhere they would
  cost exact moments and buy nothing the design asks for.
- **Controls.**  ``H_k = sum_i He_k(eps_i)``, ``k = 1..K`` (:data:`MAX_ORDER`), the
  probabilists' Hermite polynomials summed over the sample's ``copies`` eps (1, or M),
  have mean exactly 0 and ``Cov(H_j, H_k) = copies k! [j = k]`` whatever the cost.  The
  variance check compares ``T = s^2 - sum_k beta_k Hbar_k`` with the exact variance,
  ``Hbar_k`` the sample mean of ``H_k`` over the same draws: T is unbiased for
  ``Var[g]`` for ANY fixed ``beta``, so a wrong formula is caught as before, and a wrong
  ``beta`` only costs power.
- **Standard error, exactly.**  With ``c_k = E[(g - m)^2 H_k]``, ``Cov(s^2, Hbar_k) =
  c_k / N`` exactly (the sample-mean terms cancel), so ``N Var[T] = mu4 - sigma^4
  (N-3)/(N-1) - sum_k (2 beta_k c_k - copies k! beta_k^2)``; with the regression
  coefficient ``beta_k = c_k / (copies k!)`` the residual ``R = mu4 - sigma^4 - sum_k
  c_k^2 / (copies k!)`` replaces ``mu4 - sigma^4``.  ``c_k`` (by Stein's identity
  ``E[d^k/deps^k (g - m)^2]`` for one eps) comes from the exact ``E[g^2 H_k]`` and
  ``E[g H_k]`` (:class:`HermiteMoments`: for one eps, ``E[f^j w^i He_k]`` by the engine
  that gives every raw moment; for score_loo, from the generating function of
  :mod:`.loo_moments`) and the claimed mean ``m``, so ``--perturb`` acts on them as on
  every other exact moment.  The coefficients are rounded to float64 once, and ``R`` is
  computed with the rounded ones.
- **Which orders** (:func:`control_plan`).  ``s^2`` also carries the sample mean's
  error ``(gbar - mu)^2``, of size ``sigma^2 t^2 / N`` at the threshold: the z-test is
  trusted only while that stays within one standard error, ``R >= sigma^4 t^4 / N`` (the
  rule :mod:`verify.montecarlo.significance` applies to ``mu4 - sigma^4``), and while the
  Cornish-Fisher shift from the residual's skewness stays within one z unit.  The
  residual's skewness is taken in float64 from a product Gauss-Hermite rule, as the
  sixth moment of the plain check is, and cross-checked on a rule with fewer nodes (a
  disagreement means unknown: the candidate is not used).  Of the candidates -- the
  prefixes and suffixes of the orders, and every order with the lowest one's
  coefficient shrunk to leave a few floors of residual (a polynomial cost is otherwise
  explained entirely) -- the one with the smallest detectable error is used.  The
  residual's standard error is then at least ``sigma^2 t^2 / N``, some 1e8 times the
  float64 rounding of ``s^2`` and of the ``Hbar_k``: rounding sets no floor here.
- **Sampling** (:class:`HermiteSums`).  The stream's eps are read before the
  components are evaluated and reduced to power sums ``sum eps^j`` per chunk, turned
  into ``sum He_k(eps)`` with the exact integer coefficients at the end.

References: Glasserman, *Monte Carlo Methods in Financial Engineering* (2004), sec. 4.1;
Owen, *Monte Carlo theory, methods and examples* (2013), ch. 8.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import mpmath
import numpy as np
import sympy

from verify.cases.estimators import BASELINE_ESTIMATORS, MEASURE_VALUED_ESTIMATORS
from verify.cases.symbols import EPS
from verify.exact.baselines import baseline_value
from verify.exact.compound import Quantity
from verify.exact.derivation import Derivation
from verify.exact.evaluation import ExactPoint, evaluate_expectation
from verify.exact.numbers import WORKING_DIGITS
from verify.montecarlo.chunk_memo import ChunkMemo
from verify.montecarlo.engine import Component, Pair
from verify.montecarlo.noise import FloatArray
from verify.montecarlo.samplers import sample_uses, sample_weight

MAX_ORDER = 8  # He_1..He_8: (g - m)^2 of a quadratic cost's score function is of degree 8


@dataclass(frozen=True, eq=False)
class HermiteMoments:
    """``E[g^2 H_k]`` and ``E[g H_k]`` for k = 1..K (exact, 50 digits), where the control
    ``H_k = sum_i He_k(eps_i)`` sums over the ``copies`` iid eps of one sample (1, or M for
    score_loo), so ``Var[H_k] = copies k!``; and g as a function of those eps, for the
    residual's skewness (float64, by a product Gauss-Hermite rule)."""

    squares: tuple[mpmath.mpf, ...]
    firsts: tuple[mpmath.mpf, ...]
    function: Callable[..., FloatArray] = field(repr=False)
    copies: int = 1
    _skewness: dict[tuple[object, ...], float] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class ControlPlan:
    """The controls one variance check uses at N samples: orders, coefficients, the exact
    residual ``R`` (claimed moments) and its reduction, and the residual's skewness."""

    orders: tuple[int, ...]
    coefficients: tuple[float, ...]
    covariances: tuple[mpmath.mpf, ...]  # c_k of the orders used
    copies: int  # Var[H_k] = copies k!
    residual: mpmath.mpf
    reduction: mpmath.mpf  # sum_k (2 beta_k c_k - k! beta_k^2): what R gains over mu4 - sigma^4
    skewness: float

    def to_json(self, plain: float) -> dict[str, object]:
        """The JSON record: orders, coefficients and the variance ratio to the plain check."""
        return {
            "controls": [
                f"He_{k}(eps)" if self.copies == 1 else f"sum_i He_{k}(eps_i)" for k in self.orders
            ],
            "coefficients": [float(f"{b:.12g}") for b in self.coefficients],
            "variance_ratio": float(f"{float(self.residual) / plain:.6g}") if plain > 0 else None,
        }


def applies(derivation: Derivation, estimator: str, component: Component) -> bool:
    """Whether the component is ``(f(eps) - b) w(eps)`` of one standard normal eps."""
    return (
        type(derivation) is Derivation  # not a symbolic d, nor a coordinate of r(z1..zd)
        and estimator not in MEASURE_VALUED_ESTIMATORS
        and component.noise == ("normal",)
    )


def pair_hermite_moments(
    derivation: Derivation, estimator: str, point: ExactPoint, pair: Pair
) -> tuple[HermiteMoments | None, HermiteMoments | None]:
    """The Hermite moments of both components of a product or baseline estimator's pair
    (None where the controls do not apply or a closed form is missing)."""
    return (
        hermite_moments(derivation, estimator, "mu", point, pair.mu),
        hermite_moments(derivation, estimator, "sigma", point, pair.sigma),
    )


def hermite_moments(
    derivation: Derivation,
    estimator: str,
    parameter: str,
    point: ExactPoint,
    component: Component,
) -> HermiteMoments | None:
    """The exact Hermite moments of ``g = (f - b) w``; None where a closed form is missing.

    ``(f - b) w`` expands to ``f w - b w``, so ``E[g^2 He_k] = E[f^2 w^2 He_k] - 2b
    E[f w^2 He_k] + b^2 E[w^2 He_k]`` and ``E[g He_k] = E[f w He_k] - b E[w He_k]``.
    """
    if not applies(derivation, estimator, component):
        return None
    weight = sympy.sympify(sample_weight(estimator, parameter))
    uses = sample_uses(estimator)
    offset = mpmath.mpf(0)
    if estimator in BASELINE_ESTIMATORS:
        offset = evaluate_expectation(baseline_value(estimator, derivation, parameter), point).value
    squares, firsts = [], []
    for k in range(1, MAX_ORDER + 1):
        parts = [_product(derivation, uses, order, weight, power, k) for order, power in _TERMS]
        if any(part.value is None for part in parts):
            return None  # certified quadrature per order and point: not worth it here
        f2w2, fw2, w2, fw, w1 = (evaluate_expectation(part, point).value for part in parts)
        with mpmath.workdps(WORKING_DIGITS):
            squares.append(f2w2 - 2 * offset * fw2 + offset**2 * w2)
            firsts.append(fw - offset * w1)
    if not all(mpmath.isfinite(v) for v in squares + firsts):
        return None
    return HermiteMoments(tuple(squares), tuple(firsts), component.function)


# (power of f, power of w) of E[f^j w^i He_k]: f^2 w^2, f w^2, w^2, f w, w.
_TERMS = ((2, 2), (1, 2), (0, 2), (1, 1), (0, 1))


@lru_cache(maxsize=4096)
def _product(
    derivation: Derivation, uses: str, order: int, weight: sympy.Expr, power: int, k: int
) -> Quantity:
    """``E[f^order w^power He_k(eps)]``, one object per key (compiled once per case)."""
    factor = sympy.expand(weight**power * sympy.hermite_prob(k, EPS))
    return derivation.product_expectation(uses, order, factor)


@lru_cache(maxsize=4096)  # the sample plan's bisection asks again at every N it tries
def control_plan(
    mean: mpmath.mpf,
    variance: mpmath.mpf,
    fourth: mpmath.mpf,
    hermite: HermiteMoments,
    samples: int,
    t: float,
    max_correction: float,
) -> ControlPlan | None:
    """The controls the check uses at ``samples`` (module docstring); None: none fits.

    Candidates are the prefixes and suffixes of the orders worth a control (leaving the
    low orders out leaves a residual like ``c_1 He_1``, nearly normal; leaving the high
    ones out leaves a skewed one), and every order with the lowest one's coefficient shrunk so
    that :data:`SHRUNK_RESIDUAL` floors of residual remain (a polynomial cost is
    otherwise explained entirely).  A candidate qualifies when its residual keeps the
    sample mean's error within ``max_correction`` standard errors (``R >= floor =
    sigma^4 t^4 / N``) and its Cornish-Fisher shift is within ``max_correction``; of
    those, the one with the smallest detectable error, ``sqrt(R + 2 sigma^4/(N-1)) (t +
    |shift|)``, is used.
    """
    with mpmath.workdps(WORKING_DIGITS):
        plain = fourth - variance**2
        floor = variance**2 * mpmath.mpf(t) ** 4 / (samples * mpmath.mpf(max_correction) ** 2)
        terms = _terms(mean, hermite, plain)
        count = len(terms)
        runs = [terms[:high] for high in range(1, count + 1)]  # prefixes He_1..He_b
        runs += [terms[low:] for low in range(1, count)]  # and suffixes He_a..He_K
        shrunk = _shrunk(terms, plain, SHRUNK_RESIDUAL * floor, hermite.copies)
        candidates = []  # (the score's lower bound at shift 0, terms, residual)
        for chosen in runs + ([shrunk] if shrunk else []):
            residual = plain - mpmath.fsum(gain for *_, gain in chosen)
            if residual >= floor:
                spread = residual + 2 * variance**2 / (samples - 1)
                candidates.append((float(mpmath.sqrt(spread)), chosen, residual))
    best: tuple[float, ControlPlan] | None = None
    for root, chosen, residual in sorted(candidates, key=lambda c: c[0]):
        if best is not None and root * t >= best[0]:
            break  # no later candidate can score better, whatever its skewness
        plan = _candidate(chosen, hermite, mean, residual, plain - residual)
        shift = plan.skewness * (t * t - 1) / (6 * math.sqrt(samples))
        if abs(shift) <= max_correction and (best is None or root * (t + abs(shift)) < best[0]):
            best = (root * (t + abs(shift)), plan)
    return None if best is None else best[1]


# A shrunk coefficient leaves this many floors of residual: the sample mean's error then
# stays within half a standard error of the check at its threshold.
SHRUNK_RESIDUAL = 4
Term = tuple[int, float, mpmath.mpf, mpmath.mpf]  # (k, beta_k, c_k, gain_k)


def _shrunk(terms: list[Term], plain: mpmath.mpf, target: mpmath.mpf, copies: int) -> list[Term]:
    """Every order, the lowest one's coefficient scaled by ``lambda`` so that ``target``
    of residual remains (``gain(lambda) = (2 lambda - lambda^2) c^2 / Var[H]``); [] where
    all the orders leave more than ``target`` anyway, or the others alone leave less."""
    if not terms:
        return []
    (k, _, covariance, gain), rest = terms[0], terms[1:]
    left = plain - mpmath.fsum(g for *_, g in rest)  # the residual of the others
    fraction = (left - target) / gain  # 2 lambda - lambda^2, with gain the optimal one's
    if not 0 < fraction < 1:
        return []
    scale = 1 - mpmath.sqrt(1 - fraction)
    spread = copies * math.factorial(k)
    beta = float(scale * covariance / spread)
    shrunk = 2 * beta * covariance - spread * mpmath.mpf(beta) ** 2
    return [(k, beta, covariance, shrunk), *rest]


# An order removing less than this fraction of the plain variance is not worth a control.
NEGLIGIBLE_GAIN = 1e-9


def _terms(mean: mpmath.mpf, hermite: HermiteMoments, plain: mpmath.mpf) -> list[Term]:
    """(k, beta_k, c_k, gain_k) of every order worth a control, in increasing k."""
    terms = []
    for k, (square, first) in enumerate(zip(hermite.squares, hermite.firsts, strict=True), 1):
        covariance = square - 2 * mean * first  # E[(g - m)^2 H_k], as E[H_k] = 0
        spread = hermite.copies * math.factorial(k)  # Var[H_k]
        beta = float(covariance / spread)  # the float64 the check subtracts
        gain = 2 * beta * covariance - spread * mpmath.mpf(beta) ** 2
        if gain > NEGLIGIBLE_GAIN * plain:
            terms.append((k, beta, covariance, gain))
    return terms


def _candidate(
    chosen: list[Term],
    hermite: HermiteMoments,
    mean: mpmath.mpf,
    residual: mpmath.mpf,
    reduction: mpmath.mpf,
) -> ControlPlan:
    orders = tuple(k for k, _, _, _ in chosen)
    coefficients = tuple(beta for _, beta, _, _ in chosen)
    return ControlPlan(
        orders,
        coefficients,
        tuple(c for _, _, c, _ in chosen),
        hermite.copies,
        residual,
        reduction,
        residual_skewness(hermite, float(mean), orders, coefficients),
    )


MAX_RULE_NODES = 10**5  # the product rule of the residual's skewness, at most
NODES_PER_LANE = 200  # one eps: the rule every sixth moment uses
CROSS_CHECK = 4  # the skewness is also taken with this many fewer nodes per lane ...
SKEWNESS_AGREEMENT = 0.1  # ... and must agree to this (else unknown: not used)


def residual_skewness(
    hermite: HermiteMoments,
    mean: float,
    orders: tuple[int, ...],
    coefficients: tuple[float, ...],
) -> float:
    """The skewness of ``(g - m)^2 - sum beta_k H_k`` by a product Gauss-Hermite rule over
    the ``copies`` eps, with as many nodes per eps as fit in :data:`MAX_RULE_NODES` (up to
    :data:`NODES_PER_LANE`); inf (unknown) where fewer nodes disagree.  It only sizes a
    Cornish-Fisher shift, as the sixth moment does (a digit is enough)."""
    key = (mean, orders, coefficients)
    if key not in hermite._skewness:
        nodes = min(NODES_PER_LANE, int(MAX_RULE_NODES ** (1 / hermite.copies) + 1e-9))
        value = math.inf
        if nodes > CROSS_CHECK + 2:
            first, second = (
                _rule_skewness(_rule_values(hermite, mean, n), orders, coefficients)
                for n in (nodes, nodes - CROSS_CHECK)
            )
            if abs(first - second) <= SKEWNESS_AGREEMENT * max(1.0, abs(first)):
                value = first
        hermite._skewness[key] = value
    return hermite._skewness[key]


@lru_cache(maxsize=4)
def _rule_values(
    hermite: HermiteMoments, mean: float, nodes: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Weights, ``(g - m)^2`` and every ``H_k`` (rows) on the product rule: computed once
    for all the candidates of one check."""
    points, weights = _hermite_rule(nodes)
    grids = np.meshgrid(*([points] * hermite.copies), indexing="ij")
    lanes = [grid.ravel() for grid in grids]
    weight = np.ones(1)
    for _ in range(hermite.copies):
        weight = np.multiply.outer(weight, weights).ravel()
    with np.errstate(all="ignore"):
        square = (np.asarray(hermite.function(*lanes), dtype=np.float64) - mean) ** 2
    controls = np.array(
        [sum(hermite_values(lane, k) for lane in lanes) for k in range(1, MAX_ORDER + 1)]
    )
    return weight, square, controls


@lru_cache(maxsize=8)
def _hermite_rule(nodes: int) -> tuple[FloatArray, FloatArray]:
    """Gauss-Hermite nodes and weights for the standard normal (an eigenproblem: once)."""
    points, weights = np.polynomial.hermite_e.hermegauss(nodes)
    return points, weights / math.sqrt(2 * math.pi)


def _rule_skewness(
    rule: tuple[FloatArray, FloatArray, FloatArray],
    orders: tuple[int, ...],
    coefficients: tuple[float, ...],
) -> float:
    weight, square, controls = rule
    # Only the orders used, and weighted sums as dot products: no BLAS call (OpenBLAS may
    # start threads, which contend with the other case processes) and no libm pow;
    # called for every candidate at every N the sample plan tries (10^5 nodes for M eps).
    with np.errstate(all="ignore"):
        used = np.einsum("k,kn->n", np.array(coefficients), controls[[k - 1 for k in orders]])
        residual = np.subtract(square, used, out=used)
        centre = float(np.einsum("n,n->", weight, residual))
        deviation = np.subtract(residual, centre, out=residual)
        weighted = weight * deviation
        second = float(np.einsum("n,n->", weighted, deviation))
        weighted *= deviation
        third = float(np.einsum("n,n->", weighted, deviation))
    if not (second > 0 and math.isfinite(third)):
        return math.inf
    return float(third / second**1.5)


def hermite_values(x: FloatArray, k: int) -> FloatArray:
    """``He_k(x)`` by the recurrence ``He_{j+1} = x He_j - j He_{j-1}``."""
    previous, current = np.ones_like(x), x.copy()
    if k == 0:
        return previous
    for j in range(1, k):
        previous, current = current, x * current - j * previous
    return current


@lru_cache(maxsize=1)
def _coefficients() -> np.ndarray:
    """Row k: the integer coefficients of He_k in powers of x (k <= MAX_ORDER)."""
    table = np.zeros((MAX_ORDER + 1, MAX_ORDER + 1))
    for k in range(MAX_ORDER + 1):
        row = np.polynomial.hermite_e.herme2poly([0] * k + [1])
        table[k, : row.size] = row
    return table


# The power sums of the last few noise arrays seen: every stream of a pool with control
# variates reads the same eps lane (verify.montecarlo.noise_pool), chunk by chunk.
_KEPT_SUMS = 8
_kept_sums: ChunkMemo[tuple[float, ...]] = ChunkMemo(_KEPT_SUMS)


def power_sums(eps: FloatArray, take: int) -> tuple[float, ...]:
    """``sum eps^j`` over the first ``take`` values, for j = 1..:data:`MAX_ORDER`, computed
    once per array and count (:mod:`verify.montecarlo.chunk_memo`), so every stream reading
    one chunk of a lane adds the same floats."""
    known = _kept_sums.get([eps], tag=take)
    if known is not None:
        return known
    power = eps[:take].copy()
    found = []
    for j in range(1, MAX_ORDER + 1):
        found.append(float(power.sum()))
        if j < MAX_ORDER:
            power *= eps[:take]
    return _kept_sums.put([eps], tuple(found), tag=take)


class HermiteSums:
    """A noise observer of one stream: ``sum eps^j`` (j <= :data:`MAX_ORDER`) over the
    first ``take`` draws of each chunk, in the first ``copies`` noise arrays (the iid eps
    of one sample), and from them the means of ``H_k = sum_i He_k(eps_i)``."""

    def __init__(self, copies: int = 1) -> None:
        self.copies = copies
        self.count = 0
        self.powers = np.zeros(MAX_ORDER + 1)

    def __call__(self, noise: list[FloatArray], take: int) -> None:
        for eps in noise[: self.copies]:
            for j, total in enumerate(power_sums(eps, take), start=1):
                self.powers[j] += total
        self.powers[0] += take * self.copies
        self.count += take

    def means(self) -> FloatArray:
        """``Hbar_k`` for k = 0..MAX_ORDER (the integer coefficients are exact in float64)."""
        return np.asarray(_coefficients() @ self.powers / max(self.count, 1), dtype=np.float64)


def controlled_variance(variance: float, plan: ControlPlan, means: FloatArray) -> float:
    """``T = s^2 - sum_k beta_k Hbar_k``."""
    correction = math.fsum(
        b * float(means[k]) for k, b in zip(plan.orders, plan.coefficients, strict=True)
    )
    return variance - correction
