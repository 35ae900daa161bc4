"""The Solara dashboard: explore the reassurance dynamics in the browser, and teach them.

Modules, from the model outwards:

``state``
    the controls without widgets: defaults, slider ranges from ``sim.params``, the seed field,
    the model's keyword arguments.
``background``
    computations run in a thread of the page and cached: phase maps, the bifurcation diagram of
    a lever, a mixed class of couples, one day hour by hour.
``charts``
    small SVG charts as text (fast enough to redraw every frame of Play).
``views``
    what each view shows, computed from a model: the ``Session`` that owns a page's model and
    its immutable ``Frame`` of charts, badge and table.
``app``
    the Solara components and the page (``Dashboard``), and ``serve`` behind ``relsim
    dashboard``.

Importing this package imports no widget library; ``sim.dashboard.app`` does (Solara).
In Jupyter, ``from sim.dashboard.app import Dashboard`` then ``Dashboard()`` shows the page.
"""
