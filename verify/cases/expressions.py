"""Safe parsing of the expressions case files hold (``r`` and claimed values).

Contract: :func:`parse_expression` turns untrusted text into a SymPy expression or
raises :class:`ExpressionError` (a ``ValueError``) whose message is one line saying
what is wrong and what is allowed.  Nothing in the text is ever run: the text only
goes through ``ast.parse``, and the tree is rebuilt node by node from an allow-list.
No ``eval``, ``exec``, ``sympify`` or ``parse_expr`` is involved.

What is allowed, and the limits that keep hostile text from making SymPy (or the
derivations after it) explode, are :mod:`verify.cases.grammar`'s.  The tree is checked
against the allow-list and the syntax-tree limits before any SymPy object is built;
while building, computed exponents and exact numbers are held to their limits, and
results that are infinite or undefined (``1/0``) are rejected.

>>> from verify.cases.symbols import Z
>>> parse_expression("0.5*z**2", {"z": Z})
z**2/2
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Mapping

import sympy

from verify.cases.grammar import (
    ALLOWED_FUNCTIONS,
    BINARY_OPERATORS,
    CONSTANTS,
    EXPONENTIAL_FUNCTIONS,
    FUNCTION_ARITY,
    GRAMMAR,
    MAX_DEPTH,
    MAX_EXP_NESTING,
    MAX_EXPONENT,
    MAX_LITERAL,
    MAX_NODES,
    MAX_NUMBER_BITS,
    MAX_TEXT_LENGTH,
    OPERATOR_TEXT,
    SYNTAX_NAMES,
    UNARY_OPERATORS,
)

_EXPONENT_TOO_LARGE = (
    f"exponent {{}} is too large; exponents must be at most {MAX_EXPONENT} in absolute value"
)


class ExpressionError(ValueError):
    """An expression was rejected; ``str()`` is one line: the problem and what is allowed."""

    def __init__(self, message: str, field: str = "r") -> None:
        # Collapse whitespace so that no message can smuggle in extra lines.
        self.message = " ".join(message.split())
        self.field = field
        super().__init__(self.message)


def parse_expression(
    text: str, names: Mapping[str, sympy.Symbol], *, field: str = "r"
) -> sympy.Expr:
    """The SymPy expression ``text`` denotes, over ``names``; or :class:`ExpressionError`."""
    if not isinstance(text, str):
        raise ExpressionError(f"expected a string, got {type(text).__name__}", field)
    if len(text) > MAX_TEXT_LENGTH:
        raise ExpressionError(
            f"expression is {len(text)} characters long; at most {MAX_TEXT_LENGTH} are allowed",
            field,
        )
    tree = _parse(text.strip(), field)
    _Checker(names, field).check(tree)
    try:
        return _Builder(names, field).result(tree)
    except ExpressionError:
        raise
    except (ArithmeticError, TypeError, ValueError, RecursionError, MemoryError) as error:
        # SymPy refuses some inputs itself, e.g. Max(sqrt(-1), 1) is not comparable.
        message = f"SymPy cannot build this expression ({type(error).__name__}: {error})"
        raise ExpressionError(message, field) from None


def _parse(text: str, field: str) -> ast.Expression:
    if not text:
        raise ExpressionError(f"expression is empty; {GRAMMAR}", field)
    try:
        # Warnings (e.g. invalid escapes in a string literal) are noise: the
        # literal is rejected below anyway.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text, mode="eval")
    except SyntaxError as error:
        where = f", line {error.lineno}, column {error.offset}" if error.lineno else ""
        message = f"not a valid expression ({error.msg}{where}); {GRAMMAR}"
        raise ExpressionError(message, field) from None
    except (ValueError, RecursionError, MemoryError) as error:
        message = f"not a valid expression ({type(error).__name__}); {GRAMMAR}"
        raise ExpressionError(message, field) from None


def _allowed_names(names: Mapping[str, sympy.Symbol]) -> str:
    return ", ".join([*names, *(c for c in CONSTANTS if c not in names)])


def _literal(node: ast.expr) -> int | float | None:
    """The value of a (signed) int/float literal, or None if ``node`` is anything else."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _literal(node.operand)
        return None if inner is None else (-inner if isinstance(node.op, ast.USub) else inner)
    if isinstance(node, ast.Constant) and _is_number(node.value):
        return node.value  # type: ignore[return-value]
    return None


def _is_number(value: object) -> bool:
    """An int or float, but not a bool (which Python counts as an int)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Checker:
    """Walks the syntax tree and rejects anything outside the allow-list or the limits."""

    def __init__(self, names: Mapping[str, sympy.Symbol], field: str) -> None:
        self.names = names
        self.field = field

    def fail(self, message: str) -> ExpressionError:
        return ExpressionError(message, self.field)

    def check(self, tree: ast.Expression) -> None:
        # ast.walk is iterative, so counting is safe even on a very deep tree.
        count = sum(isinstance(node, ast.expr) for node in ast.walk(tree))
        if count > MAX_NODES:
            raise self.fail(f"expression has {count} parts; at most {MAX_NODES} are allowed")
        self.visit(tree.body, depth=1, exponentials=0)

    def visit(self, node: ast.expr, depth: int, exponentials: int) -> None:
        if depth > MAX_DEPTH:
            raise self.fail(f"expression is nested more than {MAX_DEPTH} levels deep")
        if exponentials > MAX_EXP_NESTING:
            raise self.fail(
                f"exponentials are nested {exponentials} deep; at most {MAX_EXP_NESTING} nested "
                "exponentials (exp, sinh, cosh, or a power with a non-literal exponent) are allowed"
            )
        if isinstance(node, ast.Constant):
            self.constant(node.value)
        elif isinstance(node, ast.Name):
            self.name(node.id)
        elif isinstance(node, ast.UnaryOp):
            if type(node.op) not in UNARY_OPERATORS:
                raise self.operator(node.op)
            self.visit(node.operand, depth + 1, exponentials)
        elif isinstance(node, ast.BinOp):
            self.binop(node, depth, exponentials)
        elif isinstance(node, ast.Call):
            self.call(node, depth, exponentials)
        else:
            raise self.syntax(node)

    def constant(self, value: object) -> None:
        if not _is_number(value):
            kind = {
                str: "string literals are",
                bytes: "string literals are",
                complex: "complex numbers are",
            }
            what = kind.get(type(value), f"{value!r} is")
            raise self.fail(f"{what} not allowed; numbers must be real int or float literals")
        if abs(value) > MAX_LITERAL:  # type: ignore[arg-type]
            raise self.fail(f"number {value!r} is too large; literals must be at most 1e12")

    def name(self, name: str) -> None:
        if name in self.names or name in CONSTANTS:
            return
        if name in ALLOWED_FUNCTIONS:
            raise self.fail(f"'{name}' is a function; call it, e.g. {name}(z)")
        raise self.fail(f"unknown name '{name}'; allowed names: {_allowed_names(self.names)}")

    def binop(self, node: ast.BinOp, depth: int, exponentials: int) -> None:
        if type(node.op) not in BINARY_OPERATORS:
            raise self.operator(node.op)
        exponent_nesting = exponentials
        if isinstance(node.op, ast.Pow):
            value = _literal(node.right)
            if value is not None and abs(value) > MAX_EXPONENT:
                raise self.fail(_EXPONENT_TOO_LARGE.format(value))
            if value is None and self.variable(node.right):
                exponent_nesting += 1
        self.visit(node.left, depth + 1, exponentials)
        self.visit(node.right, depth + 1, exponent_nesting)

    def variable(self, node: ast.expr) -> bool:
        return any(isinstance(n, ast.Name) and n.id not in CONSTANTS for n in ast.walk(node))

    def call(self, node: ast.Call, depth: int, exponentials: int) -> None:
        if not isinstance(node.func, ast.Name):
            # Report what the callee is (attribute, lambda, ...) if it is not allowed at all.
            self.visit(node.func, depth + 1, exponentials)
            raise self.fail(
                f"only allowed functions can be called, by name, e.g. exp(z); {GRAMMAR}"
            )
        name = node.func.id
        if name not in ALLOWED_FUNCTIONS:
            allowed = ", ".join(ALLOWED_FUNCTIONS)
            raise self.fail(f"function '{name}' is not allowed; allowed functions: {allowed}")
        if node.keywords:
            raise self.fail(f"keyword arguments (name=value) are not allowed in {name}(...)")
        low, high = FUNCTION_ARITY[name]
        if not low <= len(node.args) <= high:
            wanted = str(low) if low == high else f"{low} to {high}"
            raise self.fail(f"{name} takes {wanted} arguments, got {len(node.args)}")
        inner = exponentials + (name in EXPONENTIAL_FUNCTIONS)
        for argument in node.args:
            self.visit(argument, depth + 1, inner)

    def operator(self, op: ast.operator | ast.unaryop) -> ExpressionError:
        text = OPERATOR_TEXT.get(type(op), type(op).__name__)
        return self.fail(f"operator '{text}' is not allowed; allowed operators: + - * / **")

    def syntax(self, node: ast.expr) -> ExpressionError:
        what = next((text for kind, text in SYNTAX_NAMES if isinstance(node, kind)), None)
        what = what or f"'{type(node).__name__}' syntax is"
        return self.fail(f"{what} not allowed; {GRAMMAR}")


class _Builder:
    """Builds SymPy objects from a checked tree, holding computed numbers within bounds."""

    def __init__(self, names: Mapping[str, sympy.Symbol], field: str) -> None:
        self.names = names
        self.field = field

    def result(self, tree: ast.Expression) -> sympy.Expr:
        expr = self.build(tree.body)
        if expr.has(sympy.zoo, sympy.oo, sympy.nan, sympy.I):
            raise ExpressionError(
                "expression is infinite, undefined or complex (e.g. 1/0, sqrt(-1)); "
                "it must be real and finite",
                self.field,
            )
        # SymPy merges z**40 * z**40 into z**80; hold the merged power to the same limit.
        for power in expr.atoms(sympy.Pow):
            self.exponent(power.exp)
        return expr

    def build(self, node: ast.expr) -> sympy.Expr:
        if isinstance(node, ast.Constant):
            value = node.value
            # repr gives the shortest decimal that round-trips, so 0.1 becomes exactly 1/10.
            result = sympy.Integer(value) if type(value) is int else sympy.Rational(repr(value))
        elif isinstance(node, ast.Name):
            result = self.names[node.id] if node.id in self.names else CONSTANTS[node.id]
        elif isinstance(node, ast.UnaryOp):
            result = UNARY_OPERATORS[type(node.op)](self.build(node.operand))
        elif isinstance(node, ast.BinOp):
            left, right = self.build(node.left), self.build(node.right)
            if isinstance(node.op, ast.Pow):
                self.exponent(right)
                self.power_size(left, right)
            result = BINARY_OPERATORS[type(node.op)](left, right)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            result = ALLOWED_FUNCTIONS[node.func.id](*(self.build(a) for a in node.args))
        else:  # Unreachable after _Checker; kept so that a gap fails closed.
            raise ExpressionError(f"'{type(node).__name__}' syntax is not allowed", self.field)
        return self.bounded(result)

    def exponent(self, exponent: sympy.Expr) -> None:
        if exponent.is_Number and exponent.is_finite and abs(exponent) > MAX_EXPONENT:
            raise ExpressionError(_EXPONENT_TOO_LARGE.format(exponent), self.field)

    def power_size(self, base: sympy.Expr, exponent: sympy.Expr) -> None:
        # Estimate before SymPy computes: bits(b**n) is about |n| * bits(b).
        if base.is_Rational and exponent.is_Rational:
            bits = max(abs(base.p).bit_length(), abs(base.q).bit_length())
            if abs(exponent) * bits > MAX_NUMBER_BITS:
                raise self.too_big()

    def bounded(self, result: sympy.Expr) -> sympy.Expr:
        if result.is_Rational and (
            abs(result.p).bit_length() + abs(result.q).bit_length() > MAX_NUMBER_BITS
        ):
            raise self.too_big()
        return result

    def too_big(self) -> ExpressionError:
        return ExpressionError(
            f"a number in the expression grows beyond {MAX_NUMBER_BITS} bits; "
            "keep constants and powers of constants small",
            self.field,
        )
