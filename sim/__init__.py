"""relsim: reassurance between partners, seen through attachment theory.

The public API: build a :class:`Setup`, call :func:`simulate`, read the :class:`Result`.
The Mesa face is :class:`RelationshipModel` with :class:`Person` agents. Names are imported on
first use, so that ``relsim --help`` starts without loading NumPy, Numba or Mesa.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = ["Intervention", "Person", "RelationshipModel", "Result", "Setup", "Style", "simulate"]
__version__ = "0.1.0"

_HOME = {
    "Intervention": ".interventions",
    "Person": ".agents",
    "RelationshipModel": ".model",
    "Result": ".simulation",
    "Setup": ".simulation",
    "Style": ".styles",
    "simulate": ".simulation",
}

if TYPE_CHECKING:  # pragma: no cover
    from .agents import Person
    from .interventions import Intervention
    from .model import RelationshipModel
    from .simulation import Result, Setup, simulate
    from .styles import Style


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(_HOME[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
