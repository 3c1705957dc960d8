"""``verify evaluate`` starts without the Monte Carlo, plotting and progress libraries.

Start-up is most of a one-point ``verify evaluate`` (SymPy alone is about half a
second), so the subcommands that need scipy, hypothesis, matplotlib or rich import
them when they run, not when the parser is built.  Checked in a fresh interpreter,
since this test process has imported everything already.
"""

from __future__ import annotations

import subprocess
import sys

DEFERRED = ("scipy", "hypothesis", "matplotlib", "rich", "distributed")

PROBE = """
import sys
import verify.cli.main
from verify.cli.main import build_parser
build_parser()
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
"""


def loaded_after(code: str) -> set[str]:
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(output.split())


def test_building_the_parser_loads_no_deferred_library() -> None:
    assert loaded_after(PROBE).isdisjoint(DEFERRED)


def test_the_probe_sees_a_deferred_library_when_one_is_imported() -> None:
    # The probe can fail: the Monte Carlo checks load hypothesis on import, and the
    # sample kernels load scipy when they compile their first function.
    compile_one = "import sympy\nfrom verify.montecarlo.kernels import numpy_function\n"
    compile_one += "numpy_function(sympy.erf(sympy.Symbol('x')), sympy.Symbol('x'))\n"
    loaded = loaded_after("import verify.montecarlo.checks\n" + compile_one + PROBE)
    assert {"scipy", "hypothesis"} <= loaded
