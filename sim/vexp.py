"""Two elementwise helpers that compile to straight-line vector code: ``exp`` and ``clip01``.

The compiled kernel advances a block of couples side by side in SIMD registers (``sim.kernel``).
That only happens if the hourly loop contains no function call at all. A call to the C library's
``exp`` cannot be vectorised, and two of the model's fades depend on the current state (relief
fades faster with habituation, exhaustion recovers slower when exhausted), so they need an
``exp`` every hour. Called from Python (the NumPy reference path), both helpers are plain NumPy.
Under Numba they are lowered straight into LLVM instructions at each call site (no call, and
nothing for Numba's inliner to re-type, which keeps compile time down):

* :func:`exp`: range reduction ``x = k ln 2 + r`` with ``k = round(x / ln 2)`` and
  ``|r| <= ln(2) / 2``, ``ln 2`` split into a high and a low part (Cody & Waite 1980) so that
  ``r`` is exact to the last bits; ``exp(r)`` by its Taylor series to degree 13 in Horner form
  with fused multiply-adds (the first omitted term is below ``0.35**14 / 14! = 4e-18``, under
  one unit in the last place); ``2**k`` built directly from the bits of a float64 (exponent
  field ``k + 1023``). Against ``numpy.exp`` the relative error stays within 2.3e-16 on
  [-40, 0] (tests/test_vexp.py). Arguments are clamped to [-708, 709].
* :func:`clip01`: two compare-and-selects.
"""

from __future__ import annotations

import numpy as np

__all__ = ["clip01", "exp"]

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 rounded to 32 significant bits: k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10  # the rest of ln 2
_LOWEST = -708.0  # exp(-708) is still a normal float64; below it the result is clamped there
_HIGHEST = 709.0
#: 1/n! for n = 13 down to 0, the Horner order.
_TAYLOR = (1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0,
           1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0,
           1.0 / 6.0, 0.5, 1.0, 1.0)  # fmt: skip


def exp(x):
    """Return ``e ** x`` (``numpy.exp`` in Python; a vectorisable polynomial under Numba)."""
    return np.exp(x)


def clip01(x):
    """Clip ``x`` into [0, 1]."""
    return np.minimum(np.maximum(x, 0.0), 1.0)


try:
    from llvmlite import ir
    from numba.core import types
    from numba.extending import lower_builtin, type_callable
except ImportError:  # pragma: no cover - numba is a dependency
    pass
else:
    _F64 = ir.DoubleType()
    _I64 = ir.IntType(64)

    def _const(value):
        return ir.Constant(_F64, value)

    def _intrinsic(builder, name, arity):
        signature = ir.FunctionType(_F64, [_F64] * arity)
        return builder.module.declare_intrinsic(name, [_F64], signature)

    def _at_least(builder, x, low):
        return builder.select(builder.fcmp_ordered("<", x, _const(low)), _const(low), x)

    def _at_most(builder, x, high):
        return builder.select(builder.fcmp_ordered(">", x, _const(high)), _const(high), x)

    def _typer_float(context):
        def typer(x):
            if isinstance(x, types.Float):
                return types.float64

        return typer

    type_callable(exp)(_typer_float)
    type_callable(clip01)(_typer_float)

    def _as_double(context, builder, sig, args):
        return context.cast(builder, args[0], sig.args[0], types.float64)

    @lower_builtin(exp, types.Float)
    def _lower_exp(context, builder, sig, args):
        fma = _intrinsic(builder, "llvm.fma", 3)
        x = _at_most(builder, _at_least(builder, _as_double(context, builder, sig, args),
                                        _LOWEST), _HIGHEST)  # fmt: skip
        k = builder.call(_intrinsic(builder, "llvm.floor", 1),
                         [builder.call(fma, [x, _const(_LOG2E), _const(0.5)])])  # fmt: skip
        r = builder.call(fma, [builder.fneg(k), _const(_LN2_HI), x])
        r = builder.call(fma, [builder.fneg(k), _const(_LN2_LO), r])
        p = _const(_TAYLOR[0])
        for c in _TAYLOR[1:]:
            p = builder.call(fma, [p, r, _const(c)])
        biased = builder.add(builder.fptosi(k, _I64), ir.Constant(_I64, 1023))
        scale = builder.bitcast(builder.shl(biased, ir.Constant(_I64, 52)), _F64)
        return builder.fmul(p, scale)

    @lower_builtin(clip01, types.Float)
    def _lower_clip01(context, builder, sig, args):
        return _at_most(builder, _at_least(builder, _as_double(context, builder, sig, args),
                                           0.0), 1.0)  # fmt: skip
