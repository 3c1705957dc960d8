"""Closed-form antiderivatives of ``r**j`` in z, where one is known or SymPy finds one quickly.

The contract: :func:`antiderivative` returns an expression whose z-derivative is
``r**power``, or ``None``.  ``None`` is never an error: the coupled measure-valued
moments then use the certified running integral of :mod:`verify.exact.running_integral`,
which needs no antiderivative; a closed form only turns a two-dimensional integral
into a one-dimensional one (and sometimes into a closed form).

- **Known rules** first (:func:`known_antiderivative`): SymPy misses
  ``c log(1 + exp(u))`` (softplus and log-sigmoid; the dilogarithm) and
  ``exp(q)`` for a quadratic ``q`` with a linear term (a shifted Gaussian bump; erf).
- **SymPy** only where its Risch-style integrator wins quickly
  (:func:`sympy_may_integrate`): polynomials, exponentials and sines of polynomial
  arguments, kinks of polynomial arguments, rational functions of those whose
  numerator is free of z (a sigmoid's powers), and a single ``erf`` or ``atan`` of a
  linear argument (integration by parts).  Everything else -- ``z sigmoid(z)`` (a
  dilogarithm SymPy does not find), powers of ``log``, ``erf`` or ``atan``, nested
  functions such as ``tanh(softplus(z))`` -- was measured to fail after seconds to
  tens of seconds, so it is not tried.
"""

from __future__ import annotations

from functools import lru_cache

import sympy

from verify.cases.symbols import Z

_ELEMENTARY = (sympy.exp, sympy.sin, sympy.cos, sympy.sinh, sympy.cosh)
_KINKS = (sympy.Abs, sympy.Max, sympy.Min, sympy.Heaviside, sympy.sign)
# Integrated by parts when they occur once: z**n erf(a z + b), atan(a z + b).
_ONCE = (sympy.erf, sympy.atan)


@lru_cache(maxsize=64)
def antiderivative(r: sympy.Expr, power: int) -> sympy.Expr | None:
    """An antiderivative of ``r**power`` in z (see the module docstring), or None.

    Kinks give ``Piecewise`` antiderivatives, which the term expansion integrates;
    jumps (Heaviside, sign) are rewritten as ``Piecewise`` first (SymPy integrates
    them directly only to Meijer G-functions).
    """
    known = known_antiderivative(r, power)
    if known is not None:
        return known
    if not sympy_may_integrate(r, power):
        return None
    if r.is_polynomial(Z):
        # SymPy's own rule for a polynomial (Poly.integrate), the same expression, with
        # the power taken in the polynomial ring: an explicit case's r**3 in z1, the other
        # coordinates as symbols, took 1 s to expand and convert, and now 0.1 s.
        return (sympy.Poly(r, Z) ** power).integrate().as_expr()
    integrand = sympy.expand(r**power)
    if r.has(sympy.Heaviside, sympy.sign):
        integrand = integrand.rewrite(sympy.Piecewise)
    # conds="none": the generic branch (e.g. sin(k z)/k, not a Piecewise on k = 0).
    result = sympy.integrate(integrand, Z, conds="none")
    return None if result.has(sympy.Integral, sympy.meijerg) else result


def sympy_may_integrate(r: sympy.Expr, power: int) -> bool:
    """Whether ``r**power`` lies in the class SymPy integrates quickly (module docstring).

    >>> sigmoid = 1 / (1 + sympy.exp(-Z))
    >>> sympy_may_integrate(sigmoid, 3), sympy_may_integrate(Z * sigmoid, 1)
    (True, False)
    """
    for function in r.atoms(sympy.Function):
        if not all(_polynomial(argument) for argument in function.args):
            return False  # a function of a transcendental function
        if isinstance(function, _ONCE):
            if power != 1 or _degree(function.args[0]) > 1 or _count(r, function) > 1:
                return False
        elif isinstance(function, sympy.exp):
            quadratic = sympy.Poly(function.args[0], Z)
            if quadratic.degree() > 2 or (quadratic.degree() == 2 and quadratic.coeff_monomial(Z)):
                return False  # a shifted Gaussian: known_antiderivative has it
        elif isinstance(function, _ELEMENTARY):
            if _degree(function.args[0]) > 1:
                return False
        elif not isinstance(function, _KINKS):
            return False
    numerator, denominator = sympy.fraction(sympy.together(r))
    # exp(-u) counts as a denominator exp(u) here: such factors are harmless.
    polynomial_numerator = numerator.replace(sympy.exp, lambda argument: sympy.Integer(2))
    proper_denominator = sympy.Mul(
        *(f for f in sympy.Mul.make_args(denominator) if not isinstance(f, sympy.exp))
    )
    return not (polynomial_numerator.has(Z) and proper_denominator.has(Z))


def known_antiderivative(r: sympy.Expr, power: int) -> sympy.Expr | None:
    """Antiderivatives SymPy misses (module docstring); softplus for ``power == 1`` only.

    ``d/dz -Li2(-exp(u))/u' = log(1 + exp(u))`` for linear u, and
    ``d/dz sqrt(pi)/(2 s) exp(p0 - p1**2/(4 p2)) erf(s (z + p1/(2 p2))) = exp(p2 z**2 + p1 z + p0)``
    with ``s**2 = -p2`` (any branch: the identity is algebraic in s).

    >>> known_antiderivative(-sympy.log(1 + sympy.exp(-2 * Z)), 1)
    -polylog(2, -exp(-2*z))/2
    """
    scale, rest = r.as_independent(Z, as_Add=False)
    if rest.func == sympy.log and len(rest.args) == 1 and power == 1:
        return _softplus(rest.args[0], scale)
    if rest.func == sympy.exp:
        return _gaussian(power * rest.args[0], scale**power)
    return None


def _softplus(argument: sympy.Expr, scale: sympy.Expr) -> sympy.Expr | None:
    constant, rest = argument.as_coeff_Add()
    if constant != 1 or rest.func != sympy.exp:
        return None
    exponent = rest.args[0]
    slope = sympy.diff(exponent, Z)
    if not exponent.is_polynomial(Z) or slope == 0 or slope.has(Z):
        return None
    return -scale * sympy.polylog(2, -sympy.exp(exponent)) / slope


def _gaussian(exponent: sympy.Expr, scale: sympy.Expr) -> sympy.Expr | None:
    if not _polynomial(exponent):
        return None
    poly = sympy.Poly(sympy.expand(exponent), Z)
    if poly.degree() != 2 or not poly.coeff_monomial(Z):
        return None  # no shift: SymPy's own form is kept
    p2, p1, p0 = poly.all_coeffs()
    s = sympy.sqrt(-p2)
    centre = p1 / (2 * p2)
    peak = sympy.exp(p0 - p1**2 / (4 * p2))
    return scale * sympy.sqrt(sympy.pi) / (2 * s) * peak * sympy.erf(s * (Z + centre))


def _polynomial(expr: sympy.Expr) -> bool:
    return bool(expr.is_polynomial(Z))


def _degree(expr: sympy.Expr) -> int:
    return int(sympy.Poly(expr, Z).degree()) if expr.has(Z) else 0


def _count(expr: sympy.Expr, atom: sympy.Basic) -> int:
    """How often ``atom`` occurs in ``expr`` after expansion (erf(z)**2 counts twice)."""
    return sum(
        int(factor.exp) if factor.is_Pow and factor.base == atom else 1
        for term in sympy.Add.make_args(sympy.expand(expr))
        for factor in sympy.Mul.make_args(term)
        if factor.has(atom)
    )
