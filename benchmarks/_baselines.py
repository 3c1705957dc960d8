"""The same Gaussian expectations computed by our engine and by two SymPy baselines.

The contract: :data:`COSTS` x :data:`QUANTITIES` name the expectations, each an
integrand in ``z`` symbolic in ``mu``, ``sigma > 0`` and a real ``k``, under
``z ~ N(mu, sigma**2)``:

- ``E[r]``, the objective;
- ``E[g**2]`` for the score and pathwise estimators' ``mu`` and ``sigma`` components.

Three engines compute them, each in a child process started by the benchmark
(:func:`ours_child`, :func:`baseline_child`):

- ``ours``: :func:`verify.exact.gaussian.gaussian_expectation` of the integrand in ``eps``;
- ``stats``: ``sympy.stats.E`` with ``Z = Normal("Z", mu, sigma)``;
- ``integrate``: ``sympy.integrate(integrand * pdf, (z, -oo, oo))``.

Before every timed run SymPy's cache is cleared (and, for ours, the engine's
``lru_cache`` s).  Each child returns the status (``ok``, ``timeout`` or ``unevaluated``:
the answer still holds an ``Integral`` or an undecided ``Piecewise`` at the test
point), the run times, and the value at :data:`TEST_POINT` as ``[re, im]`` strings
to 30 digits, so the parent can check that the answers agree to 15 digits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import sympy
from _timing import Json, Measurement, measure
from sympy import stats
from sympy.core.cache import clear_cache

from verify.cases.symbols import EPS, MU, SIGMA, Z, parameter_symbol
from verify.exact.derivation import pathwise_derivative
from verify.exact.evaluation import evaluate_expectation, exact_point
from verify.exact.gaussian import Expectation, gaussian_expectation, term_expectation
from verify.exact.terms import expand_terms

K = parameter_symbol("k")
TEST_POINT = {"mu": 0.3, "sigma": 0.7, "k": 1.3}
AGREEMENT = mpmath.mpf(10) ** -15
COSTS: tuple[tuple[str, sympy.Expr], ...] = (
    ("(z-k)**2", (Z - K) ** 2),
    ("exp(-k*z**2)", sympy.exp(-K * Z**2)),
    ("cos(k*z)", sympy.cos(K * Z)),
    ("exp(k*z)", sympy.exp(K * Z)),
    ("Abs(z-k)", sympy.Abs(Z - K)),
)
QUANTITIES: tuple[str, ...] = (
    "objective",
    "score.mu",
    "score.sigma",
    "pathwise.mu",
    "pathwise.sigma",
)
QUANTITY_LABELS = {
    "objective": "E[r]",
    "score.mu": "E[g_score,mu^2]",
    "score.sigma": "E[g_score,sigma^2]",
    "pathwise.mu": "E[g_path,mu^2]",
    "pathwise.sigma": "E[g_path,sigma^2]",
}


def integrand(cost: int, quantity: str) -> sympy.Expr:
    """The integrand in ``z`` of expectation (cost, quantity)."""
    r = COSTS[cost][1]
    dr = pathwise_derivative(r)
    standard = (Z - MU) / SIGMA  # eps
    squares = {
        "objective": r,
        "score.mu": (r * standard / SIGMA) ** 2,
        "score.sigma": (r * (standard**2 - 1) / SIGMA) ** 2,
        "pathwise.mu": dr**2,
        "pathwise.sigma": (dr * standard) ** 2,
    }
    return squares[quantity]


def label(cost: int, quantity: str) -> str:
    """``E[...]`` label with the cost, e.g. ``E[r], r = cos(k*z)``."""
    return f"{QUANTITY_LABELS[quantity]}, r = {COSTS[cost][0]}"


def _clear_ours() -> None:
    expand_terms.cache_clear()
    term_expectation.cache_clear()
    clear_cache()


def ours_child(argument: Json) -> Json:
    """Time our engine on each ``[cost, quantity]`` of ``argument["items"]``."""
    results = []
    point = exact_point(TEST_POINT)
    for cost, quantity in argument["items"]:
        expression = integrand(cost, quantity)

        def call(expression: sympy.Expr = expression) -> Expectation:
            return gaussian_expectation(expression.subs(Z, MU + SIGMA * EPS))

        timing = measure(
            call,
            clear=_clear_ours,
            limit=argument["limit"],
            repeats=argument["repeats"],
            repeat_below=float("inf"),
        )
        record = _record(timing)
        if timing.status == "ok":
            value = evaluate_expectation(timing.result, point).value
            record.update(value=[_digits(value), "0"], method=timing.result.method)
        results.append(record)
    return {"status": "ok", "results": results}


def _stats_call(expression: sympy.Expr) -> Callable[[], Any]:
    variable = stats.Normal("Z", MU, SIGMA)
    return lambda: stats.E(expression.subs(Z, variable))


def _integrate_call(expression: sympy.Expr) -> Callable[[], Any]:
    density = sympy.exp(-((Z - MU) ** 2) / (2 * SIGMA**2)) / (sympy.sqrt(2 * sympy.pi) * SIGMA)
    return lambda: sympy.integrate(expression * density, (Z, -sympy.oo, sympy.oo))


BASELINES: dict[str, Callable[[sympy.Expr], Callable[[], Any]]] = {
    "stats": _stats_call,
    "integrate": _integrate_call,
}


def baseline_child(argument: Json) -> Json:
    """Time one baseline (``argument["engine"]``) on one expectation and evaluate its answer."""
    expression = integrand(argument["cost"], argument["quantity"])
    timing = measure(
        BASELINES[argument["engine"]](expression),
        clear=clear_cache,
        limit=argument["limit"],
        repeats=argument["repeats"],
        repeat_below=argument["repeat_below"],
    )
    record = _record(timing)
    if timing.status == "ok":
        value = _at_test_point(timing.result)
        if value is None:
            record["status"] = "unevaluated"
        else:
            record["value"] = value
    return record


def _record(timing: Measurement) -> Json:
    return {"status": timing.status, "seconds": timing.median, "runs": len(timing.seconds)}


def _at_test_point(result: sympy.Expr) -> list[str] | None:
    """``[re, im]`` of a baseline's answer at the test point, or None if it is not a number."""
    specialised = result.subs(exact_point(TEST_POINT))
    if specialised.has(sympy.Integral):
        return None
    number = sympy.N(specialised, 30)
    if not number.is_number or number.has(sympy.Piecewise, sympy.Integral):
        return None
    if not number.is_finite:
        return ["nan", "nan"]  # zoo or nan: a number, but not the expectation
    real, imaginary = number.as_real_imag()
    return [str(sympy.N(real, 30)), str(sympy.N(imaginary, 30))]


def _digits(value: mpmath.mpf) -> str:
    return str(mpmath.nstr(value, 30))


def agree(ours: list[str], theirs: list[str]) -> bool:
    """Whether two ``[re, im]`` values agree to 15 significant digits.

    >>> agree(["1.5", "0"], ["1.5000000000000000001", "0"]), agree(["1.5", "0"], ["1.5001", "0"])
    (True, False)
    """
    with mpmath.workdps(40):
        a = mpmath.mpc(*(mpmath.mpf(part) for part in ours))
        b = mpmath.mpc(*(mpmath.mpf(part) for part in theirs))
        if not (mpmath.isfinite(a) and mpmath.isfinite(b)):
            return False
        return bool(abs(a - b) <= AGREEMENT * max(abs(a), abs(b), mpmath.mpf(10) ** -30))
