"""Stage 3, verification: seeded Monte Carlo checks of the exact formulas.

Contract: Monte Carlo only verifies, it never supplies a reported value.  Every
stream is seeded by key (:mod:`~verify.montecarlo.noise`), every threshold comes from
exact moments (:mod:`~verify.montecarlo.significance`,
:mod:`~verify.montecarlo.robust`), the sample size is planned for power
(:mod:`~verify.montecarlo.sample_size`) and a run's false-alarm rate is designed.

Imports :mod:`verify.exact` and :mod:`verify.cases` only, among the stages.
"""
