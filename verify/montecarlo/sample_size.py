"""How many samples each stream draws: enough for every variance check to see a 2% error.

The contract:

- **Target.**  A variance formula off by 2% -- the exact variance times 1.02 or 0.98 --
  is flagged with probability at least :data:`POWER` = 0.99 by every variance check,
  at the threshold ``t`` of the run's Bonferroni family.  The sample variance's
  standard error is ``sqrt((mu4 - sigma^4 (N-3)/(N-1))/N)``, so roughly
  ``N >= ((t + z_0.99) / 0.02)^2 (kurtosis - 1)``; :func:`variance_power` is exact
  about the rest: for a z-test, the Cornish-Fisher-shifted bounds and the
  first-order skewness of the sample variance itself; for a median-of-means check
  (:mod:`verify.montecarlo.robust`), its wider bound and the median's spread.
- **Per stream.**  One stream draws both components of an estimator together, so its
  N (:func:`stream_samples`) is the largest either component's variance check needs:
  the smallest multiple of :data:`~verify.montecarlo.engine.CHUNK_SIZE` from ``minimum`` up
  to :data:`MAX_SAMPLES` with power >= 0.99 (found by bisection: power grows with N).
  Where even :data:`MAX_SAMPLES` falls short, the stream draws that many, and every
  check says the power it has (``power`` in the JSON).  The stream's mean and
  covariance checks get the same N.  Variance checks that are skipped (infinite
  moments), compared exactly (zero variance) or failed without sampling (impossible
  moments) need nothing.
- **Which moments.**  The numbers being checked: a wrong formula sizes its own stream,
  as it would in practice, and ``verify check --perturb`` measures exactly that.
- **Control variates.**  Where a stream falls short at ``minimum`` (:func:`falls_short`),
  its variance checks may use the controls of :mod:`verify.montecarlo.control_variates`;
  the power is then that of the controlled statistic, whose exact variance replaces
  the sample variance's (:func:`~verify.montecarlo.significance.variance_spread`), and
  the stream is planned again with it.

The cap is the time budget: ``nox -s verify`` must fit CI's 10 minutes with the tests.
Over the 32 bundled cases (1,478 variance checks made), the streams draw 5.6e9 samples
at 2^24 against 8.1e9 at 2^25, and ``verify run`` took 6 min 40 s against 8 min 5 s on
two cores (a one-eps stream runs at 10-40 M samples/s, see ``reports/benchmarks.md``).
That costs power on the heaviest-tailed components only: 348 of the variance checks stay
below 0.99 (252 at 2^25), 274 below 0.5 (203 at 2^25) -- score-function and baseline
components of exponential, cosh and polynomial costs at large parameters, where a 2%
error is out of reach of any affordable N.  Each check states its power.  (Those counts
predate the control variates, which lift most score-family checks of polynomial costs
to power 1 at 2^21.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from statistics import NormalDist

from verify.montecarlo.check_moments import ExactMoments
from verify.montecarlo.engine import CHUNK_SIZE, DEFAULT_SAMPLES
from verify.montecarlo.robust import approximate_power, robust_blocks
from verify.montecarlo.significance import (
    planned_skips,
    robust_reasons,
    variance_controls,
    variance_correction,
    variance_spread,
)

RELATIVE_ERROR = 0.02  # the variance error every check must detect ...
POWER = 0.99  # ... with this probability
MIN_PLANNED = DEFAULT_SAMPLES  # never fewer than before planning: the means keep their power
MAX_SAMPLES = 2**24
FACTORS = (1 + RELATIVE_ERROR, 1 - RELATIVE_ERROR)


def needs_power(exact: ExactMoments) -> bool:
    """Whether the variance check of these moments is made from samples at all."""
    return not exact.is_degenerate and planned_skips(exact, MIN_PLANNED, 1.0)["variance"] is None


def variance_power(
    exact: ExactMoments, samples: int, t: float, relative_error: float = RELATIVE_ERROR
) -> float:
    """P(the variance check flags a variance off by 2% (``relative_error``), either way),
    the lower of the two.

    The truth is the given moments with the variance divided by ``f`` (1.02 or 0.98):
    the formula claims ``f`` times the truth.  A scale change, so the sample variance's
    standard error and the median's spread scale by ``1/f`` too.
    """
    if not needs_power(exact):
        return math.nan
    factors = (1 + relative_error, 1 - relative_error)
    if robust_reasons(exact, samples, t)["variance"] is None:
        return min(_z_power(exact, samples, t, f) for f in factors)
    claimed = float(exact.variance)
    spread = float(exact.fourth) - claimed**2
    blocks = robust_blocks(t)
    return min(
        approximate_power(claimed, spread, samples, blocks, claimed / f, 1 / f) for f in factors
    )


def _z_power(exact: ExactMoments, samples: int, t: float, factor: float) -> float:
    variance, n = float(exact.variance), samples
    plan = variance_controls(exact, n, t)  # the controlled statistic, where it is used
    error = math.sqrt(float(variance_spread(exact, n, plan)) / n)
    # The truth's standard error over the claimed one: 1/f for the plain check; with
    # control variates the fixed coefficients no longer fit the truth exactly.
    ratio = math.sqrt(max(float(variance_spread(exact, n, plan, factor)), 0.0) / n) / error
    shift = variance_correction(exact, samples, t)
    skew = shift / (t * t - 1)  # the statistic's own Cornish-Fisher coefficient
    offset = (variance / factor - variance) / error  # the truth, in the check's z units
    low, high = -t + shift, t + shift
    # z = offset + ratio Z with Z the truth's standardised statistic.
    if ratio == 0:
        return float(not low <= offset <= high)
    return _cdf((low - offset) / ratio, skew) + 1 - _cdf((high - offset) / ratio, skew)


def _cdf(x: float, skew: float) -> float:
    """P(Z <= x) for Z with the first-order Cornish-Fisher quantiles ``u + skew (u^2 - 1)``."""
    discriminant = 1 + 4 * skew * (x + skew)
    if discriminant < 0:  # beyond the expansion's range: all the mass is on one side
        return 0.0 if skew > 0 else 1.0
    return NormalDist().cdf(2 * (x + skew) / (1 + math.sqrt(discriminant)))


def component_samples(
    exact: ExactMoments,
    t: float,
    minimum: int,
    maximum: int = MAX_SAMPLES,
    relative_error: float = RELATIVE_ERROR,
    power: float = POWER,
) -> int:
    """The smallest chunk multiple in [minimum, maximum] with power >= POWER (else maximum)."""
    if not needs_power(exact):
        return -(-minimum // CHUNK_SIZE) * CHUNK_SIZE
    return smallest_sufficient(
        lambda n: variance_power(exact, n, t, relative_error) >= power, minimum, maximum
    )


def smallest_sufficient(enough: Callable[[int], bool], minimum: int, maximum: int) -> int:
    """The smallest multiple of CHUNK_SIZE in [minimum, maximum] at which ``enough`` holds
    (else the largest), by bisection: ``enough`` must be monotone in N (power grows with N).
    """
    low = -(-minimum // CHUNK_SIZE)
    high = max(maximum // CHUNK_SIZE, low)
    if enough(low * CHUNK_SIZE):
        return low * CHUNK_SIZE
    if not enough(high * CHUNK_SIZE):
        return high * CHUNK_SIZE
    while high - low > 1:  # not enough at low, enough at high
        middle = (low + high) // 2
        if enough(middle * CHUNK_SIZE):
            high = middle
        else:
            low = middle
    return high * CHUNK_SIZE


def stream_samples(
    components: Iterable[ExactMoments],
    t: float,
    minimum: int = MIN_PLANNED,
    maximum: int = MAX_SAMPLES,
) -> int:
    """The N of one stream: the most any of its components' variance checks needs."""
    return max(component_samples(exact, t, minimum, maximum) for exact in components)


def falls_short(
    components: Iterable[ExactMoments], t: float, samples: int | None, minimum: int, maximum: int
) -> bool:
    """Whether some variance check of a stream lacks the target power at the fewest samples
    it may draw (``samples`` None: planned from ``minimum``) or at the fixed ``samples``:
    only then are control variates worth their exact moments."""
    if samples is None:
        return stream_samples(components, t, minimum, maximum) > minimum
    return any(needs_power(m) and variance_power(m, samples, t) < POWER for m in components)
