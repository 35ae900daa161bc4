"""Two elementwise helpers that compile to straight-line vector code: ``exp`` and ``clip01``.

The compiled kernel advances a block of couples side by side in SIMD registers
(``sim.engine.kernel``). That only happens if the hourly loop contains no function call at all. A
call to the C library's ``exp`` cannot be vectorised, and two of the model's fades depend on the
current state (relief fades faster with habituation, exhaustion recovers slower when exhausted), so
they need an ``exp`` every hour. Called from Python (the NumPy reference path), both helpers are
plain NumPy. Under Numba they are lowered straight into LLVM instructions at each call site (no
call, and nothing for Numba's inliner to re-type, which keeps compile time down):

* :func:`exp`: range reduction ``x = k ln 2 + r`` with ``k`` the integer nearest ``x / ln 2``,
  found by adding the shifter ``1.5 * 2**52`` (the sum's low mantissa bits then hold ``k``, so
  neither a rounding instruction nor a float-to-integer conversion is needed), and
  ``|r| <= ln(2) / 2``, ``ln 2`` split into a high and a low part (Cody & Waite 1980) so that
  ``r`` is exact to the last bits; ``exp(r) = 1 + (r + r**2 q(r))`` with ``q`` the rest of the
  Taylor series to degree 13 (the first omitted term is below ``0.35**14 / 14! = 4e-18``, under
  one unit in the last place), evaluated by Estrin's scheme: pairs of terms in parallel, then
  combined with ``r**2``, ``r**4``, ``r**8``, so that the longest chain of dependent operations
  is six fused multiply-adds instead of Horner's thirteen (the hourly loop is bound by such
  chains); ``2**k`` built directly from the bits of the shifted sum (exponent field
  ``k + 1023``). Against ``numpy.exp`` the relative error stays within 2.3e-16 on [-40, 0]
  (tests/test_vexp.py). Arguments are clamped to [-708, 709].
* :func:`clip01`: two compare-and-selects.

:func:`prefer_wide_vectors`, called at the top of a compiled function, lets LLVM vectorise its
loops with the widest registers the machine has (512 bits with AVX-512). LLVM's default on
recent Intel processors is 256 bits (wide registers once lowered the clock speed); for the
kernel's hourly loop 512 bits are about 1.3 times faster on this project's machine.
"""

from __future__ import annotations

import numpy as np

__all__ = ["clip01", "exp", "prefer_wide_vectors"]

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 rounded to 32 significant bits: k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10  # the rest of ln 2
_SHIFTER = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer, kept in the low bits
_LOWEST = -708.0  # exp(-708) is still a normal float64; below it the result is clamped there
_HIGHEST = 709.0
#: 1/n! for n = 2 to 13: the Taylor series of ``(exp(r) - 1 - r) / r**2``.
_Q = (0.5, 1.0 / 6.0, 1.0 / 24.0, 1.0 / 120.0, 1.0 / 720.0, 1.0 / 5040.0, 1.0 / 40320.0,
      1.0 / 362880.0, 1.0 / 3628800.0, 1.0 / 39916800.0, 1.0 / 479001600.0,
      1.0 / 6227020800.0)  # fmt: skip


def exp(x):
    """Return ``e ** x`` (``numpy.exp`` in Python; a vectorisable polynomial under Numba)."""
    return np.exp(x)


def clip01(x):
    """Clip ``x`` into [0, 1]."""
    return np.minimum(np.maximum(x, 0.0), 1.0)


def prefer_wide_vectors():
    """Let LLVM vectorise the compiled function that calls this with 512-bit registers.

    Does nothing when called from Python.
    """


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
        shifted = builder.call(fma, [x, _const(_LOG2E), _const(_SHIFTER)])
        k = builder.fsub(shifted, _const(_SHIFTER))
        r = builder.call(fma, [builder.fneg(k), _const(_LN2_HI), x])
        r = builder.call(fma, [builder.fneg(k), _const(_LN2_LO), r])
        r2 = builder.fmul(r, r)
        r4 = builder.fmul(r2, r2)
        r8 = builder.fmul(r4, r4)
        pairs = [builder.call(fma, [r, _const(_Q[i + 1]), _const(_Q[i])]) for i in range(0, 12, 2)]
        quads = [builder.call(fma, [r2, pairs[i + 1], pairs[i]]) for i in range(0, 6, 2)]
        q = builder.call(fma, [r8, quads[2], builder.call(fma, [r4, quads[1], quads[0]])])
        p = builder.fadd(_const(1.0), builder.call(fma, [r2, q, r]))
        biased = builder.add(builder.bitcast(shifted, _I64), ir.Constant(_I64, 1023))
        scale = builder.bitcast(builder.shl(biased, ir.Constant(_I64, 52)), _F64)
        return builder.fmul(p, scale)

    @lower_builtin(clip01, types.Float)
    def _lower_clip01(context, builder, sig, args):
        return _at_most(builder, _at_least(builder, _as_double(context, builder, sig, args),
                                           0.0), 1.0)  # fmt: skip

    @type_callable(prefer_wide_vectors)
    def _type_prefer_wide_vectors(context):
        def typer():
            return types.none

        return typer

    @lower_builtin(prefer_wide_vectors)
    def _lower_prefer_wide_vectors(context, builder, sig, args):
        # A string attribute of the enclosing LLVM function, which llvmlite's checked set of
        # attribute names does not list, hence set.add.
        set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        return context.get_dummy_value()
