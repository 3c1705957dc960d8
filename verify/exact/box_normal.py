"""A closed form rewritten, for its sign only, as a tighter formula of the same sign.

The contract: :func:`sign_equivalent` returns ``g`` with ``sign(g(x)) == sign(f(x))``
at every point ``x`` of the given ``domain`` box where ``f`` is defined -- an exact
rewrite, certified where it needs a sign (see below) -- or ``f`` itself when no rewrite
applies.  Interval evaluation of ``g`` over a box is tighter than of ``f``: ball
arithmetic overestimates by the *dependency effect* (Moore, Kearfott and Cloud,
*Introduction to Interval Analysis*, SIAM 2009, Section 5.3; Neumaier, *Interval
Methods for Systems of Equations*, 1990, Section 1.4), which the difference of two
Gaussian variances suffers badly: ``Var[A] - Var[B]`` is a sum of large, similar terms
each carrying ``exp(-mu**2) exp(mu**2 sigma**2/(...))``-like factors that vary by
orders of magnitude over a box and nearly cancel.  Exact steps remove it:

0. **Common factors divided out.**  Terms that share a large power and cancel exactly
   are dropped; a power ``b**n`` that every remaining term has, with ``b`` of one sign
   on the whole domain (proven by ball arithmetic), is divided out and its sign kept
   (a product over d coordinates carries ``E[f**2]**(d - 1)`` in both variances).
1. **Exponentials grouped.**  ``f`` is written ``sum_j c_j exp(a_j)`` with every
   product and power of ``exp`` factors merged into one exponent ``a_j`` (a canonical
   rational function, so equal exponents meet), and the coefficients of each exponent
   collected and simplified.  Terms that cancel exactly (the squared means of two
   unbiased estimators of one gradient) vanish here, symbolically.
2. **A positive factor divided out.**  ``exp(a_ref) > 0`` for real ``a_ref``, so
   ``f / exp(a_ref) = sum_j c_j exp(a_j - a_ref)`` has the sign of ``f``; with a single
   exponent left, what remains is algebraic.  ``a_ref`` is the exponent largest at the
   domain's centre, so the others become decaying factors.
3. **A denominator of one sign multiplied out.**  ``g = n / d`` over a common
   denominator; where ball arithmetic proves ``d > 0`` (or ``< 0``) on the *whole*
   domain, ``n`` (or ``-n``) has the sign of ``f``.

Each step is skipped when its precondition is not met or the formula is too large for
SymPy to rewrite quickly (``_MAX_OPERATIONS``).

>>> from verify.cases.symbols import MU, SIGMA
>>> f = (MU**2 - SIGMA) * sympy.exp(-MU**2) * sympy.exp(MU**2 * SIGMA) / SIGMA**2
>>> sign_equivalent(f, (MU, SIGMA), ((-1.0, 1.0), (0.5, 2.0)))
mu**2 - sigma
"""

from __future__ import annotations

from functools import lru_cache

import sympy

from verify.exact.balls import compile_balls, number_ball, working_precision
from verify.exact.box_enclosure import certified_sign, interval_ball

Box = tuple[tuple[float, float], ...]
Terms = list[tuple[sympy.Expr, sympy.Expr]]
# Beyond this many operations SymPy's together/factor can take minutes: no rewrite.
_MAX_OPERATIONS = 2500
_MAX_TERMS = 1000
_MAX_POWER = 4
_PRECISION = 96
_DOMAIN_PIECES = 512


@lru_cache(maxsize=256)
def sign_equivalent(
    expr: sympy.Expr, variables: tuple[sympy.Symbol, ...], domain: Box
) -> sympy.Expr:
    """A formula with the sign of ``expr`` on ``domain`` (see the module docstring)."""
    expr = _without_cancelling_groups(expr)
    common, sign = _common_factor(expr, variables, domain)
    if common != 1:
        quotient = sympy.Add(*(term / common for term in sympy.Add.make_args(expr)))
        return sign * sign_equivalent(quotient, variables, domain)
    if sympy.count_ops(expr) > _MAX_OPERATIONS:
        return expr
    terms = exp_terms(expr)
    if terms is None or len(terms) > _MAX_TERMS:
        return expr
    groups = _grouped(terms)
    if not groups:
        return sympy.Integer(0)
    reference = _reference_exponent(groups, variables, domain)
    if reference is None:  # no positive exp factor to divide by (cos(k z): exp(I k mu))
        return _numerator_of_one_sign(expr, variables, domain)
    # Each exponential is held by a positive placeholder while the coefficients are put
    # over one denominator, so that no exp(-a) moves below the line as 1/exp(a).
    holders = {a: sympy.Dummy("e", positive=True) for a in groups}
    scaled = sympy.Add(*(c * holders[a] for a, c in groups.items()))
    if sympy.count_ops(scaled) > _MAX_OPERATIONS:
        return expr
    same_sign = _numerator_of_one_sign(scaled, variables, domain)
    return same_sign.xreplace(
        {holder: sympy.exp(_canonical(a - reference)) for a, holder in holders.items()}
    )


def _without_cancelling_groups(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with the terms that share a power above ``_MAX_POWER`` and cancel exactly
    removed (the squared means ``E[g]**2`` of two unbiased estimators of one gradient,
    each ``E[f]**(2 d - 2)`` times a square, in a product over d coordinates)."""
    large = sorted(
        {p for p in expr.atoms(sympy.Pow) if p.exp.is_Integer and p.exp > _MAX_POWER},
        key=sympy.default_sort_key,
    )
    if not large:
        return expr
    kept = []
    for power, coefficient in sympy.collect(expr, large, evaluate=False).items():
        terms = None if coefficient.has(*large) else exp_terms(sympy.expand(coefficient))
        if terms is not None and not _grouped(terms):
            continue  # the coefficient is exactly 0
        kept.append(power * coefficient)
    return sympy.Add(*kept)


def _common_factor(
    expr: sympy.Expr, variables: tuple[sympy.Symbol, ...], domain: Box
) -> tuple[sympy.Expr, int]:
    """A power ``b**n`` that every term of ``expr`` (or its one term) has, with the sign
    ball arithmetic proves for it on the whole domain, or ``(1, 1)``.

    A product over d coordinates carries ``E[f**2]**(d - 1)`` in both variances: once
    divided out, the rest is the one-coordinate difference.
    """
    terms = sympy.Add.make_args(expr)
    shared: dict[sympy.Expr, sympy.Expr] | None = None
    for term in terms:
        powers: dict[sympy.Expr, sympy.Expr] = {}
        for factor in sympy.Mul.make_args(term):
            base, exponent = factor.as_base_exp()
            if base.free_symbols and exponent.is_Rational and exponent > 0:
                powers[base] = powers.get(base, 0) + exponent
        if shared is None:
            shared = powers
        else:
            shared = {b: min(e, powers[b]) for b, e in shared.items() if b in powers}
    for base, exponent in sorted((shared or {}).items(), key=lambda item: -item[1]):
        base_sign = domain_sign(base, variables, domain)
        if base_sign is None or (base_sign < 0 and not exponent.is_Integer):
            continue
        return base**exponent, base_sign ** int(exponent) if exponent.is_Integer else 1
    return sympy.Integer(1), 1


def exp_terms(expr: sympy.Expr) -> Terms | None:
    """``expr`` as pairs (c, a) with ``expr == sum c exp(a)``, or None (too large).

    Sums are split, products distributed, small whole powers multiplied out; any other
    power keeps its base whole unless the base is one term ``c exp(a)`` with ``p`` whole
    or ``a`` real, when ``(c exp(a))**p = c**p exp(p a)``.
    """
    if not expr.has(sympy.exp):
        return [(expr, sympy.Integer(0))]  # nothing to merge: keep it whole
    if isinstance(expr, sympy.Add):
        result: Terms = []
        for argument in expr.args:
            part = exp_terms(argument)
            if part is None:
                return None
            result.extend(part)
        return result
    if isinstance(expr, sympy.exp):
        return [(sympy.Integer(1), expr.args[0])]
    if isinstance(expr, sympy.Mul):
        return _product([exp_terms(argument) for argument in expr.args])
    if isinstance(expr, sympy.Pow) and expr.base.has(sympy.exp):
        return _power(expr)
    return [(expr, sympy.Integer(0))]


def _power(expr: sympy.Pow) -> Terms | None:
    base = exp_terms(expr.base)
    if base is None:
        return None
    exponent = expr.exp
    if exponent.is_Integer and 0 < int(exponent) <= _MAX_POWER:
        return _product([base] * int(exponent))
    # (c exp(a))**p = c**p exp(p a) needs exp(a) > 0 (a real) unless p is whole: for
    # complex a the principal branch of the power can move.
    if len(base) == 1 and (exponent.is_Integer or base[0][1].is_real is True):
        coefficient, argument = base[0]
        return [(coefficient**exponent, exponent * argument)]
    return [(expr, sympy.Integer(0))]


def _product(factors: list[Terms | None]) -> Terms | None:
    result: Terms = [(sympy.Integer(1), sympy.Integer(0))]
    for factor in factors:
        if factor is None:
            return None
        result = [(c * d, a + b) for c, a in result for d, b in factor]
        if len(result) > _MAX_TERMS:
            return None
    return result


@lru_cache(maxsize=4096)
def _canonical(exponent: sympy.Expr) -> sympy.Expr:
    """One spelling per rational function (so equal exponents are equal keys).

    Memoised: a difference of variances has a few distinct exponents over hundreds of
    terms (and the components, rows and erf rewrites of a case share them), and SymPy's
    factorisation over the Gaussian rationals (cos(k z): ``I k mu``) is slow."""
    return sympy.factor(sympy.cancel(sympy.together(exponent)))


def _grouped(terms: Terms) -> dict[sympy.Expr, sympy.Expr]:
    """Coefficient per distinct exponent, simplified; exactly-cancelling groups dropped."""
    sums: dict[sympy.Expr, list[sympy.Expr]] = {}
    for coefficient, exponent in terms:
        sums.setdefault(_canonical(exponent), []).append(coefficient)
    groups = {}
    for exponent, parts in sums.items():
        coefficient = _factored(sympy.Add(*parts))
        if coefficient != 0:
            groups[exponent] = coefficient
    return groups


@lru_cache(maxsize=4096)
def _factored(coefficient: sympy.Expr) -> sympy.Expr:
    """The coefficient over one denominator, factored (memoised: the erf rewrites and the
    reference point's rows repeat many of a case's sums)."""
    return sympy.factor(sympy.together(coefficient))


def _reference_exponent(
    groups: dict[sympy.Expr, sympy.Expr], variables: tuple[sympy.Symbol, ...], domain: Box
) -> sympy.Expr | None:
    """The real exponent largest at the domain's centre, or None (some exponent not real,
    or infinite somewhere on the domain, where dividing could hide a singularity)."""
    centre = {
        v: sympy.Rational((low + high) / 2)
        for v, (low, high) in zip(variables, domain, strict=True)
    }
    values = {}
    for exponent in groups:
        if not _real_and_finite(exponent, variables, domain):
            return None
        values[exponent] = float(exponent.xreplace(centre))
    return max(values, key=lambda e: values[e])


def _real_and_finite(expr: sympy.Expr, variables: tuple[sympy.Symbol, ...], domain: Box) -> bool:
    if not expr.free_symbols <= set(variables) or not expr.is_rational_function(*variables):
        return False
    # Real variables and no imaginary unit: the rational function is real (cos(k z)
    # gives exponents such as I*k*mu - k**2*sigma**2/2, whose exp is no positive factor).
    if expr.has(sympy.I) or not all(v.is_real for v in variables):
        return False
    return domain_sign(sympy.denom(expr), variables, domain) in (-1, 1)


def _numerator_of_one_sign(
    expr: sympy.Expr, variables: tuple[sympy.Symbol, ...], domain: Box
) -> sympy.Expr:
    """``n`` or ``-n`` for ``expr = n / d`` where ``d`` has one certified sign on the domain."""
    numerator, denominator = sympy.fraction(sympy.together(expr))
    if denominator == 1 or not denominator.free_symbols <= set(variables):
        return expr  # nothing to multiply out, or a placeholder below the line
    sign = domain_sign(denominator, variables, domain)
    return expr if sign is None else sign * numerator


def _product_sign(expr: sympy.Expr, variables: tuple[sympy.Symbol, ...], domain: Box) -> int | None:
    """The sign of a product from its factors' (a power of a positive base is positive,
    of a base of known sign to a whole exponent that sign to it), or None.

    A ball of ``1 - sigma`` over ``[0.1, 1 - 2**-53]`` is positive, but one of
    ``(1 - sigma)**(9/2)`` need not be: its radius, rounded outward, reaches 0.
    """
    sign = 1
    for factor in sympy.Mul.make_args(expr):
        base, exponent = factor.as_base_exp()
        if not factor.free_symbols:
            part = certified_sign(number_ball(factor).real) if factor.is_real else None
        elif not exponent.is_Rational or not base.free_symbols <= set(variables):
            return None  # exp(x) as E**x, a symbolic power, a placeholder: the ball path's
        else:
            base_sign = domain_sign(base, variables, domain) if base != expr else None
            whole = exponent.is_Integer
            part = (
                None
                if base_sign is None or (base_sign < 0 and not whole)
                else (base_sign ** int(exponent) if whole else 1)
            )
        if part not in (-1, 1):
            return None
        sign *= part
    return sign


def domain_sign(expr: sympy.Expr, variables: tuple[sympy.Symbol, ...], domain: Box) -> int | None:
    """-1 or +1 when ball arithmetic proves that sign on the whole domain, else None.

    Midpoint-radius balls overestimate badly over a wide box (``[0.1, 3]**2`` is enclosed
    as ``[-4.2, 9]``), so the domain is bisected, widest side first, until every piece
    has the same certified sign or ``_DOMAIN_PIECES`` pieces have been tried.
    """
    if isinstance(expr, sympy.Mul | sympy.Pow):
        by_factors = _product_sign(expr, variables, domain)
        if by_factors is not None:
            return by_factors
    function = compile_balls(expr, variables)
    # Only the sides expr depends on are worth splitting.
    used = [i for i, v in enumerate(variables) if v in expr.free_symbols] or [0]
    waiting, seen, sign = [domain], 0, 0
    with working_precision(_PRECISION):
        while waiting:
            box = waiting.pop()
            seen += 1
            piece = certified_sign(function([interval_ball(lo, hi) for lo, hi in box]).real)
            if piece in (-1, 1) and sign in (0, piece):
                sign = piece
                continue
            if piece in (-1, 1) or seen + len(waiting) >= _DOMAIN_PIECES:
                return None  # both signs, or out of pieces
            side = max(used, key=lambda i: box[i][1] - box[i][0])
            low, high = box[side]
            if high == low:
                return None
            middle = (low + high) / 2
            waiting.append((*box[:side], (low, middle), *box[side + 1 :]))
            waiting.append((*box[:side], (middle, high), *box[side + 1 :]))
    return sign if sign in (-1, 1) else None
