"""Monte Carlo check of ``score_loo`` at M samples per estimate: seeded, batched.

The contract: :func:`loo_estimates` draws ``estimates`` independent M-sample
estimates of ``score_loo`` (:mod:`verify.exact.leave_one_out`; Kool, van Hoof and
Welling 2019) at an exact point, from a numpy stream keyed by ``seed``, and
:func:`check_loo` compares their sample mean, variances and covariance with exact
values.  Monte Carlo only verifies: the exact values come from
:mod:`verify.exact.leave_one_out`.

Thresholds.  The mean check is a z-score with the exact variance of the M-sample
estimate.  The variance and covariance checks need the variance of a sample
variance, i.e. fourth moments of the M-sample estimate, which are not derived
(they are order-4 compounds over the index patterns of four samples).  So those
checks are batch t-tests: the estimates are split into ``batches`` equal batches,
each batch gives its own sample variance (covariance), and the mean of the batch
statistics is compared with the exact value by Student's t on ``batches - 1``
degrees of freedom.  Each batch statistic is an average of thousands of terms
(approximately normal by the central limit theorem, given finite fourth moments),
so t is approximately Student's; the threshold ``t_max`` = 6 gives a two-sided
false-alarm probability below 1e-6 per statistic for 64 batches (t(63) tail at 6 is
about 1e-7), and the seeded stream makes each run reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy

from verify.cases.symbols import EPS, GRADIENT_PARAMETERS, MU, SIGMA, Z
from verify.exact.baselines import score_weight
from verify.exact.evaluation import ExactPoint
from verify.montecarlo.kernels import numpy_function
from verify.montecarlo.noise import FloatArray

T_MAX = 6.0
BATCHES = 64


@dataclass(frozen=True)
class LooOutcome:
    """One statistic: the sample value, the exact one, and the score (z or t)."""

    statistic: str
    sample: float
    exact: float
    score: float

    @property
    def passed(self) -> bool:
        return abs(self.score) <= T_MAX


def loo_estimates(
    r: sympy.Expr, point: ExactPoint, samples: int, estimates: int, seed: int
) -> dict[str, FloatArray]:
    """``estimates`` draws of (g_mu, g_sigma), each from ``samples`` = M draws of z."""
    generator = np.random.default_rng(np.random.SeedSequence([seed, samples, estimates]))
    eps = generator.standard_normal((estimates, samples))
    cost = numpy_function(r.subs(Z, MU + SIGMA * EPS).subs(point), EPS)(eps.ravel())
    cost = cost.reshape(eps.shape)
    centred = cost - cost.mean(axis=1, keepdims=True)
    out = {}
    for parameter in GRADIENT_PARAMETERS:
        score = numpy_function(sympy.sympify(score_weight(parameter)).subs(point), EPS)
        weights = score(eps.ravel()).reshape(eps.shape)
        out[parameter] = (centred * weights).sum(axis=1) / (samples - 1)
    return out


def check_loo(
    draws: dict[str, FloatArray],
    means: dict[str, float],
    variances: dict[str, float],
    covariance: float,
    batches: int = BATCHES,
) -> list[LooOutcome]:
    """Mean (z), variances and covariance (batch t) against the exact values."""
    outcomes = []
    count = len(draws["mu"])
    for parameter in GRADIENT_PARAMETERS:
        values = draws[parameter]
        z = (values.mean() - means[parameter]) / math.sqrt(variances[parameter] / count)
        sample = float(values.mean())
        outcomes.append(LooOutcome(f"mean.{parameter}", sample, means[parameter], float(z)))
    pairs = {f"variance.{p}": (draws[p], draws[p], variances[p]) for p in GRADIENT_PARAMETERS}
    pairs["covariance"] = (draws["mu"], draws["sigma"], covariance)
    for statistic, (first, second, exact) in pairs.items():
        per_batch = [
            np.cov(a, b)[0, 1]
            for a, b in zip(
                np.array_split(first, batches), np.array_split(second, batches), strict=True
            )
        ]
        sample = float(np.mean(per_batch))
        error = float(np.std(per_batch, ddof=1)) / math.sqrt(batches)
        outcomes.append(LooOutcome(statistic, sample, exact, (sample - exact) / error))
    return outcomes
