"""Proven regions (``verify regions``): boxes per second and undecided share against time.

Measured here, in one run, for one closed-form component (cos(2z), mu, over the
default domain) and one quadrature component (sigmoid(z), mu):

- **undecided share against the time budget**: ``verify.regions`` with time limits of
  a few seconds upwards; each row is a fresh search, so the share is what that budget
  buys (boxes examined, and boxes per second, in the same row);
- **against the grid maps**: the 41 x 36 float64 map of the reports
  (:func:`verify.analysis.maps.log_variance_ratio_grid`) for the same component, its
  time, and the share of nodes where the score function wins, beside the proven
  interval [proven score share, proven score share + undecided share].
"""

from __future__ import annotations

import time

import numpy as np
from _timing import markdown_table, quick_mode

from verify.analysis.maps import log_variance_ratio_grid
from verify.api.case import Case
from verify.api.regions import regions
from verify.exact.dimension import derive_case

GRID = (np.linspace(-2.0, 2.0, 41), np.linspace(0.2, 2.0, 36))
CASES = (
    ("cos(2 z)", Case("cos(k*z)", parameters={"k": [2.0]}), (1.0, 3.0, 10.0, 30.0)),
    ("sigmoid(z)", Case("sigmoid(k*z)", parameters={"k": [1.0]}), (10.0, 30.0, 120.0)),
)


def _budget_rows(label: str, case: Case, budgets: tuple[float, ...]) -> list[list[str]]:
    rows = []
    for budget in budgets[:2] if quick_mode() else budgets:
        result = regions(case, time_limit=budget)
        search = result.rows[0].searches["mu"]
        share = result.share("mu")
        rows.append(
            [
                label,
                result.rows[0].methods["mu"],
                f"{budget:g}",
                f"{search.seconds:.1f}",
                str(search.boxes_examined),
                f"{search.boxes_examined / max(search.seconds, 1e-9):.0f}",
                f"{100 * share['undecided']:.2f}%",
                f"{100 * share['score']:.2f}-{100 * (share['score'] + share['undecided']):.2f}%",
            ]
        )
    return rows


def _grid_row(label: str, case: Case) -> list[str]:
    fixed = {name: values[0] for name, values in case.parameters.items()}
    start = time.perf_counter()
    grid = log_variance_ratio_grid(derive_case(case), "mu", fixed, *GRID)
    seconds = time.perf_counter() - start
    return [label, f"{seconds:.2f}", f"{100 * float(np.mean(grid > 0)):.2f}%"]


def section() -> str:
    """The markdown section (see the module docstring)."""
    budget_rows = [
        row for label, case, budgets in CASES for row in _budget_rows(label, case, budgets)
    ]
    grid_rows = [_grid_row(label, case) for label, case, _ in CASES]
    return "\n\n".join(
        [
            "## Proven regions (`verify regions`)",
            "Component mu over mu in [-2, 2], sigma in [0.2, 2]; score against pathwise. "
            "Each row is a fresh search with that time limit.",
            markdown_table(
                [
                    "cost",
                    "method",
                    "limit (s)",
                    "seconds",
                    "boxes",
                    "boxes/s",
                    "undecided",
                    "score lower (proven interval)",
                ],
                budget_rows,
            ),
            "The grid maps of the reports for the same components (float64, no bound):",
            markdown_table(["cost", "grid seconds", "score lower on the grid"], grid_rows),
        ]
    )
