"""The engine: the Numba world, where the model's mechanisms run for every couple at once.

Three modules, read in this order:

* ``rules``: one documented function per mechanism (a stressor raises threat, an answer brings
  relief, relief fades, ...), each with its formula and reference. Plain arithmetic that runs on
  NumPy arrays from Python and, inlined, inside the compiled loop. Everything that happens to a
  person is a function here; docs/ODD.md names every one.
* ``kernel``: the composed hourly loop. ``hour`` applies the rules in the hourly order of events
  and ``close_day`` the end of a day, on a work table of couples; ``Kernel`` holds the state arrays
  of a population and advances them, compiled by Numba (blocks of couples in SIMD registers) or as
  NumPy from Python (the reference path, ``RELSIM_ENGINE=numpy``).
* ``vexp``: the vector ``exp`` (and ``clip01``) that lets LLVM vectorise the compiled loop: a call
  to the C library's ``exp`` would stop it.

Nothing outside this package is compiled. Numba's on-disk cache is keyed by a hash of this
folder's source files and of the modules they import from ``sim`` (``kernel._numba_cache_dir``),
so an edit to any of them compiles afresh. Importing ``sim.engine`` alone loads nothing heavy.
"""
