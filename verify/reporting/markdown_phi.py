"""The "In the phi names" section of a phi-form case's report (the seed's q_phi(z | x)).

The contract: :func:`phi_section` is a pure function of a
:class:`~verify.reporting.gather.CaseReport` (its ``phi_rows``, computed by
:mod:`verify.reporting.phi_rows`): the map, the chain rule used (stated, with the
symbolic Jacobian), and per parameter combination at the reference phi a table row
per phi name with its gradient, the score and pathwise variances and the lower one
(decided on certified balls, :meth:`verify.exact.phi_chain.PhiResult.lower`), then the
trace of each covariance in phi.  Numbers are exact values to
:data:`~verify.reporting.cells.TABLE_DIGITS` digits; empty for other cases.
"""

from __future__ import annotations

from verify.cases.case import Case
from verify.cases.formulas import as_latex
from verify.cases.phi import PhiParameterization
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.reporting.cells import short
from verify.reporting.gather import CaseReport, combination_label
from verify.reporting.phi_rows import PhiRow

_SYMBOL = {"mu": r"\mu", "sigma": r"\sigma"}
_CHAIN_RULE_COMPONENTS = (
    r"$$g_{\phi} = J^{\top} g_{\theta}, \qquad "
    r"\operatorname{Var}[g_{\phi_j}] = \sum_{a, b} J_{a j} J_{b j} "
    r"\operatorname{Cov}[g_a, g_b]$$"
)
_CHAIN_RULE = (
    r"$$g_{\phi} = J^{\top} g_{\theta}, \qquad "
    r"\operatorname{Var}[g_{\phi_j}] = J_{\mu j}^2 \operatorname{Var}[g_\mu] "
    r"+ 2 J_{\mu j} J_{\sigma j} \operatorname{Cov}[g_\mu, g_\sigma] "
    r"+ J_{\sigma j}^2 \operatorname{Var}[g_\sigma]$$"
)


def phi_section(report: CaseReport) -> str:
    """The whole section, or "" for a case without the phi form."""
    return phi_section_of(report.case, report.phi_rows)


def phi_section_of(case: Case, rows: list[PhiRow]) -> str:
    """The section for ``case``'s phi ``rows`` (one coordinate or an explicit dimension)."""
    form = case.parameterization
    if not isinstance(form, PhiParameterization) or not rows:
        return ""
    names = ", ".join(form.phi)
    data = ", ".join(form.data) or "none"
    reference = ", ".join(f"{n} = {v:g}" for n, v in form.reference.items())
    one = form.components == GRADIENT_PARAMETERS
    theta = "mu, sigma" if one else ", ".join(form.components)
    lines = [
        "## In the phi names",
        "",
        f"The Gaussian is the case's q_phi(z | x): {form.describe()}, with the trainable "
        f"names phi = ({names}) and the data ({data}) held fixed.  Each sample of every "
        f"estimator is carried to phi by the chain rule through the full Jacobian "
        f"J = d({theta})/d(phi) ({len(form.components)} x {len(form.phi)}), so "
        "E[g_phi] = J^T E[g_theta] and Cov[g_phi] = J^T Cov[g_theta] J with the exact "
        + (
            "2 x 2 covariance of (g_mu, g_sigma):"
            if one
            else f"{len(form.components)} x {len(form.components)} covariance of all "
            "components, across coordinates too:"
        ),
        "",
        _CHAIN_RULE if one else _CHAIN_RULE_COMPONENTS,
        "",
        *_jacobian(form),
        "",
        (
            "A name that moves only mu (or only sigma) scales every estimator's variance by "
            "the same J^2, so its verdict is that of mu (or sigma); a name that moves both "
            "mixes the components through Cov[g_mu, g_sigma], and its verdict can differ "
            "from both."
            if one
            else "A name that moves several components mixes them through their "
            "covariances, so its verdict can differ from every component's."
        )
        + " Lower: certified by the balls of the two variances (tie where they overlap).",
        "",
        f"At the reference phi ({reference}), for each combination of the case's "
        f"parameters ({theta} follow from phi and the data, exactly):",
        "",
        f"| parameters | {theta} | name | gradient | Var score | Var pathwise | lower |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        lines += _rows(row, form.components)
    return "\n".join(lines)


def _symbol(component: str) -> str:
    """``\\mu``, ``\\sigma_{2}``: the LaTeX of a component name."""
    kind = "mu" if component.startswith("mu") else "sigma"
    index = component.removeprefix(kind)
    return _SYMBOL[kind] + (f"_{{{index}}}" if index else "")


def _jacobian(form: PhiParameterization) -> list[str]:
    pairs = [(t, name) for t in form.components for name in form.phi]
    entries = [
        rf"\frac{{\partial {_symbol(t)}}}{{\partial {name}}} = " + as_latex(form.jacobian[t][name])
        for t, name in pairs
        if form.jacobian[t][name] != 0
    ]
    lines = ["$$" + r", \quad ".join(entries) + "$$"]
    if len(entries) < len(pairs):
        lines += ["", "Every other entry of J is identically 0."]
    return lines


def _rows(row: PhiRow, components: tuple[str, ...]) -> list[str]:
    label = combination_label(row.combination)
    result = row.result
    if result is None:
        return [f"| {label} | | | | | | no Gaussian here: {row.problem} |"]
    at = result.point.at
    theta = ", ".join(f"{at[t]:.6g}" for t in components)
    lines = [
        f"| {label} | {theta} | {name} | {short(result.gradient[name])} | "
        f"{short(result.variance('score', name))} | "
        f"{short(result.variance('pathwise', name))} | {result.lower(name)} |"
        for name in result.phi
    ]
    traces = [short(result.trace(e)) for e in ("score", "pathwise")]
    lines.append(f"| {label} | {theta} | tr Cov | | {traces[0]} | {traces[1]} | |")
    return lines
