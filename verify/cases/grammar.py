"""What a case expression may contain: the allow-list and the size limits.

Contract: this module is data only; :mod:`verify.cases.expressions` enforces it.
Allowed are int and float literals (a float becomes the exact rational of its decimal
form, so ``0.1`` is ``1/10`` and derivations stay exact), the caller's names and the
constants of :data:`CONSTANTS` (``pi`` and ``E``; the caller's names win), the binary
operators of :data:`BINARY_OPERATORS` (``+ - * / **``), the unary ones of
:data:`UNARY_OPERATORS` (``+ -``), parentheses, and calls with positional arguments to
the functions of :data:`ALLOWED_FUNCTIONS`, with :data:`FUNCTION_ARITY` arguments.

Limits, so that hostile text cannot make SymPy (or the derivations after it) explode.
The first group is checked on the syntax tree before any SymPy object is built:
at most :data:`MAX_TEXT_LENGTH` (2000) characters, tree depth :data:`MAX_DEPTH` (50),
:data:`MAX_NODES` (500) expression nodes, literal exponents ``|n| <= 64``
(:data:`MAX_EXPONENT`), literal magnitudes ``<= 1e12`` (:data:`MAX_LITERAL`), and at
most :data:`MAX_EXP_NESTING` (2) nested exponentials (:data:`EXPONENTIAL_FUNCTIONS`,
or a power with a non-literal exponent).  While building, computed exponents are held
to the same ``|n| <= 64`` and exact numbers to :data:`MAX_NUMBER_BITS` (4096) bits.
Messages describe the grammar as :data:`GRAMMAR` and name what lies outside it by
:data:`OPERATOR_TEXT` and :data:`SYNTAX_NAMES`.

>>> FUNCTION_ARITY["log"], sorted(CONSTANTS)
((1, 2), ['E', 'pi'])
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from types import MappingProxyType

import sympy

MAX_TEXT_LENGTH = 2000
MAX_DEPTH = 50
MAX_NODES = 500
MAX_EXPONENT = 64
MAX_LITERAL = 10**12
MAX_EXP_NESTING = 2
MAX_NUMBER_BITS = 4096

_ONE_ARGUMENT: dict[str, Callable[..., sympy.Expr]] = {
    "exp": sympy.exp, "sqrt": sympy.sqrt, "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan,
    "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh, "atan": sympy.atan,
    "erf": sympy.erf, "erfc": sympy.erfc, "Abs": sympy.Abs, "abs": sympy.Abs, "sign": sympy.sign,
    "Heaviside": sympy.Heaviside, "heaviside": sympy.Heaviside,
    "sigmoid": lambda x: 1 / (1 + sympy.exp(-x)),
    "softplus": lambda x: sympy.log(1 + sympy.exp(x)),
    "relu": lambda x: sympy.Max(x, 0),
}  # fmt: skip
_SEVERAL: dict[str, Callable[..., sympy.Expr]] = {
    "log": sympy.log, "Min": sympy.Min, "min": sympy.Min, "Max": sympy.Max, "max": sympy.Max,
}  # fmt: skip
ALLOWED_FUNCTIONS: Mapping[str, Callable[..., sympy.Expr]] = MappingProxyType(
    dict(sorted({**_ONE_ARGUMENT, **_SEVERAL}.items()))
)
# (fewest, most) arguments.  log takes an optional base; Min/Max are capped because
# SymPy compares their arguments pairwise.
FUNCTION_ARITY: Mapping[str, tuple[int, int]] = MappingProxyType(
    {name: (1, 1) for name in _ONE_ARGUMENT}
    | {"log": (1, 2), "Min": (2, 8), "min": (2, 8), "Max": (2, 8), "max": (2, 8)}
)
CONSTANTS: Mapping[str, sympy.Expr] = MappingProxyType({"pi": sympy.pi, "E": sympy.E})

# Functions that grow exponentially: nesting them is what overflows (exp(exp(exp(z)))).
EXPONENTIAL_FUNCTIONS = frozenset({"exp", "sinh", "cosh"})
BINARY_OPERATORS: Mapping[type[ast.operator], Callable[[sympy.Expr, sympy.Expr], sympy.Expr]] = (
    MappingProxyType(
        {
            ast.Add: lambda a, b: a + b,
            ast.Sub: lambda a, b: a - b,
            ast.Mult: lambda a, b: a * b,
            ast.Div: lambda a, b: a / b,
            ast.Pow: lambda a, b: a**b,
        }
    )
)
UNARY_OPERATORS: Mapping[type[ast.unaryop], Callable[[sympy.Expr], sympy.Expr]] = MappingProxyType(
    {ast.USub: lambda a: -a, ast.UAdd: lambda a: a}
)

# The grammar in one line, and the names of the syntax outside it, for messages.
GRAMMAR = "expressions use numbers, names, + - * / **, parentheses and calls to allowed functions"
OPERATOR_TEXT: Mapping[type[ast.AST], str] = MappingProxyType({
    ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|",
    ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>", ast.Invert: "~", ast.Not: "not",
})  # fmt: skip
SYNTAX_NAMES: tuple[tuple[type[ast.AST] | tuple[type[ast.AST], ...], str], ...] = (
    (ast.Attribute, "attribute access ('.') is"),
    (ast.Subscript, "subscripts ('[...]') are"),
    (ast.Lambda, "lambda functions are"),
    ((ast.JoinedStr, ast.FormattedValue), "string literals are"),
    ((ast.Compare, ast.BoolOp), "comparisons and boolean operators are"),
    ((ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp), "comprehensions are"),
    ((ast.List, ast.Tuple, ast.Set, ast.Dict), "lists, tuples, sets and dicts are"),
    (ast.IfExp, "conditional expressions (if/else) are"),
    (ast.Starred, "starred arguments ('*') are"),
    (ast.NamedExpr, "assignments (':=') are"),
)
