"""The dashboard's page for ``solara run sim/app.py``; the dashboard lives in :mod:`sim.dashboard`.

Solara serves the ``Page`` (or ``page``) of the file it is given; this file hands it the
dashboard's, so ``solara run sim/app.py`` and ``relsim dashboard`` show the same page.
"""

from sim.dashboard.app import Dashboard, Page, page, serve

__all__ = ["Dashboard", "Page", "page", "serve"]
