"""Readable text for ``verify evaluate``: the formulas, then the numbers with their methods."""

from __future__ import annotations

from collections.abc import Mapping

from verify.cases.budget import LOO_ESTIMATOR
from verify.cases.case import Case
from verify.cases.formulas import as_text
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.exact import leave_one_out
from verify.exact.derivation import Derivation
from verify.exact.phi_chain import PhiResult
from verify.exact.results import PointResult


def evaluation_text(
    case: Case,
    derivation: Derivation,
    at: Mapping[str, float],
    result: PointResult,
    phi: PhiResult | None = None,
) -> str:
    """Formulas and 30-digit values of one case at one point (and in phi, if given there)."""
    point = ", ".join(f"{name}={value:g}" for name, value in at.items())
    lines = [
        f"case {case.name}: {case.title}",
        f"  r(z)  = {case.r}",
        f"  r'(z) = {derivation.dr}"
        + ("   (jumps of r dropped: pathwise is biased)" if derivation.is_discontinuous else ""),
        "",
        "formulas (z ~ N(mu, sigma^2)):",
        f"  E[r]            = {as_text(derivation.objective.value)}",
    ]
    for parameter in GRADIENT_PARAMETERS:
        gradient = derivation.gradient[parameter].value
        lines.append(f"  dJ/d{parameter:<10} = {as_text(gradient)}")
    for estimator in result.variances:
        for parameter in GRADIENT_PARAMETERS:
            label = f"Var {estimator}[{parameter}]"
            if estimator == LOO_ESTIMATOR:  # symbolic in the sample count M
                formula = leave_one_out.variance_formula(derivation, parameter)
            else:
                formula = derivation.variance_formula(estimator, parameter)
            lines.append(f"  {label:<15} = {as_text(formula)}")
    lines += ["", f"values at {point}:"]
    for name, number in result.numbers().items():
        lines.append(f"  {name:<24} {number.as_text():>36}  ({number.method})")
    for estimator in result.means:
        for parameter in GRADIENT_PARAMETERS:
            bias = result.bias(estimator, parameter)
            if bias.as_json() not in (0.0, "nan"):
                name = f"{estimator}.bias.{parameter}"
                lines.append(f"  {name:<24} {bias.as_text():>36}  ({bias.method})")
    if phi is not None:
        lines += ["", *_phi_lines(phi)]
    return "\n".join(lines)


def _phi_lines(phi: PhiResult) -> list[str]:
    """The chain rule and the numbers in the phi names."""
    form = phi.point.form
    point = ", ".join(f"{name}={value:g}" for name, value in phi.point.phi.items())
    lines = [
        f"in phi at {point}, with {form.describe()}:",
        "  g_phi = J^T g_theta, J = d(mu, sigma)/d(phi); E = J^T E[g_theta], "
        "Cov = J^T Cov[g_theta] J",
    ]
    rows = {f"d{t}/d{n}": phi.point.jacobian[t][n] for t in GRADIENT_PARAMETERS for n in phi.phi}
    rows |= {f"gradient.{n}": phi.gradient[n] for n in phi.phi}
    for estimator in phi.means:
        rows |= {f"{estimator}.mean.{n}": phi.means[estimator][n] for n in phi.phi}
        rows |= {f"{estimator}.variance.{n}": phi.variance(estimator, n) for n in phi.phi}
        rows[f"{estimator}.trace"] = phi.trace(estimator)
    for name, number in rows.items():
        lines.append(f"  {name:<24} {number.as_text():>36}  ({number.method})")
    lower = ", ".join(f"{n}: {phi.lower(n)}" for n in phi.phi)
    lines.append(f"  lower variance, score vs pathwise: {lower}")
    return lines
