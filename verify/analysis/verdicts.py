"""Per-component verdicts: does the pathwise estimator have the lower variance, and where not?

The contract: a :class:`ComponentVerdict` summarises one gradient component of one
case over its (mu, sigma) domain and every parameter combination, from maps of
``log(Var pathwise / Var score)`` computed from the exact formulas (see
:mod:`verify.analysis.maps`), plus the exact property of bias:

- ``score_lower_share``: the share of map points where the score function's
  variance is strictly lower (the log-ratio is > 0, including +inf);
- ``infinite_share``: the share where a variance is infinite (from the exact
  divergence conditions, not from the ratio, which is also infinite where a
  variance is zero);
- ``biased``: the pathwise estimator's mean differs from the gradient (r has jumps).

Its :attr:`~ComponentVerdict.label` is the one-line answer the index shows.

>>> import numpy as np
>>> verdict = component_verdict("mu", {"k=1": np.array([[-np.inf, 0.5]])}, biased=False)
>>> verdict.label
'score lower somewhere (50% of the map; k=1)'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import mpmath
import numpy as np

# Maps are float64 evaluations of the exact formulas: a log-ratio within this of 0 is
# rounding, not a win (an exact tie, e.g. both variances zero, maps to 0).
TIE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class ComponentVerdict:
    """The answer for one gradient component (see the module docstring)."""

    parameter: str
    score_lower_share: float
    score_lower_at: tuple[str, ...]
    infinite_share: float
    equal_everywhere: bool
    biased: bool

    @property
    def label(self) -> str:
        """The one-line verdict: the main finding, then the caveats."""
        if self.equal_everywhere:
            parts = ["equal variances everywhere"]
        elif self.score_lower_share == 0:
            parts = ["pathwise lower everywhere"]
        else:
            where = "; ".join(self.score_lower_at)
            parts = [f"score lower somewhere ({self.score_lower_share:.0%} of the map; {where})"]
        if self.biased:
            parts.append("pathwise biased")
        if self.infinite_share > 0:
            parts.append(f"infinite variance somewhere ({self.infinite_share:.0%} of the map)")
        return ", ".join(parts)

    @property
    def short(self) -> str:
        """A compact tag for the index table."""
        tags = []
        if self.equal_everywhere:
            tags.append("equal")
        elif self.score_lower_share == 0:
            tags.append("pathwise lower")
        else:
            tags.append(f"score lower in {self.score_lower_share:.0%}")
        if self.biased:
            tags.append("biased")
        if self.infinite_share > 0:
            tags.append("infinite somewhere")
        return ", ".join(tags)


def component_verdict(
    parameter: str,
    ratio_maps: Mapping[str, np.ndarray],
    *,
    biased: bool,
    infinite_maps: Mapping[str, np.ndarray] | None = None,
) -> ComponentVerdict:
    """The verdict from maps of log(Var pathwise / Var score), one map per parameter label.

    ``infinite_maps`` mark where a variance is infinite, decided from the exact
    divergence conditions: an infinite log-ratio alone may only mean a zero variance.
    """
    total = sum(ratio.size for ratio in ratio_maps.values())
    score_lower = {label: int(np.sum(ratio > TIE_TOLERANCE)) for label, ratio in ratio_maps.items()}
    masks = infinite_maps or {}
    non_finite = sum(int(np.sum(mask)) for mask in masks.values())
    equal = all(bool(np.all(np.abs(ratio) <= TIE_TOLERANCE)) for ratio in ratio_maps.values())
    return ComponentVerdict(
        parameter=parameter,
        score_lower_share=sum(score_lower.values()) / total,
        score_lower_at=tuple(label for label, count in score_lower.items() if count),
        infinite_share=non_finite / total,
        equal_everywhere=equal,
        biased=biased,
    )


TIE_RELATIVE = 1e-12  # variances this close (relative) are reported as a tie


def least(variances: Mapping[str, mpmath.mpf]) -> str:
    """The estimator with the lowest variance ("tie" within 1e-12 relative).

    >>> least({"score": mpmath.mpf(2), "pathwise": mpmath.mpf(1)})
    'pathwise'
    """
    smallest = min(variances.values())
    best = [
        e
        for e, v in variances.items()
        if v == smallest
        or (mpmath.isfinite(v) and v - smallest <= TIE_RELATIVE * max(abs(v), abs(smallest)))
    ]
    return best[0] if len(best) == 1 else "tie"


def lowest_finite(variances: Mapping[str, mpmath.mpf]) -> str:
    """The lowest finite variance's estimator; "tie (n)" within 1e-12, "none finite"."""
    finite = {e: v for e, v in variances.items() if mpmath.isfinite(v)}
    if not finite:
        return "none finite"
    smallest = min(finite.values())
    best = sorted(e for e, v in finite.items() if v <= smallest * (1 + TIE_RELATIVE))
    return best[0] if len(best) == 1 else f"tie ({len(best)})"
