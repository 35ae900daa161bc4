"""relsim: reassurance between partners, seen through attachment theory.

The public API: build a :class:`Setup`, call :func:`simulate`, read the :class:`Result`.
The Mesa face is :class:`RelationshipModel` (imported lazily: it pulls in Mesa).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .interventions import Intervention
from .simulation import Result, Setup, simulate
from .styles import Style

__all__ = ["Intervention", "Person", "RelationshipModel", "Result", "Setup", "Style", "simulate"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "RelationshipModel":
        return import_module(".model", __name__).RelationshipModel
    if name == "Person":
        return import_module(".agents", __name__).Person
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
