"""Stage 4, where each estimator wins: sweeps, maps, roots, crossovers and verdicts.

Contract: regions and crossovers are computed from the exact formulas (floats on
grids to draw maps; certified roots where a crossover is reported), never from
Monte Carlo estimates.

Imports :mod:`verify.montecarlo`, :mod:`verify.exact` and :mod:`verify.cases`
only, among the stages.
"""
