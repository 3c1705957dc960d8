"""Stage 2, exact numbers: Gaussian expectations, derivations and certified evaluation.

Contract: every quantity is a closed form found by the rule-based Gaussian engine
(:mod:`~verify.exact.gaussian`) or, where none exists, labelled certified quadrature
(:mod:`~verify.exact.quadrature`); evaluated at a point it is a
:class:`~verify.exact.numbers.Number` carrying a rigorous radius (arb balls) or
``None`` where nothing is certified.  The estimator table the derivation reads is
:mod:`~verify.exact.registry`.  Nothing here draws a random number.

Imports :mod:`verify.cases` only, among the stages.
"""
