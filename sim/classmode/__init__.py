"""Class mode: a whole class runs one experiment together, and pairs of students play a couple.

``relsim class`` (``sim.classmode.server.serve``) starts one web server for the classroom:

* students join with a short class code, run the configuration the teacher's exercise lets them
  change and send it to the class board (also from the dashboard, which the same server serves
  under ``/dashboard/``: ``sim.classmode.send.ClassSend``);
* the teacher's board (``/board``, behind a separate teacher key) shows every run live: a table by
  group and configuration, the pooled outcome shares with Wilson intervals and a phase diagram of
  the configurations tried;
* two students can play one couple together, one as partner A and one as partner B
  (``sim.classmode.pair``).

Everything a session holds lives in one SQLite database in the session's folder
(``sim.classmode.store``), so a restart on the same folder keeps the board, and the CSV export is
complete. The modules:

``config``  the exercise, the controls students may change, validation, running a configuration
``store``   the SQLite database (WAL mode): codes, exercise, students, runs, pair games
``board``   the board's numbers, its SVG drawings, the CSV export and the exported figures
``pair``    the pair game on top of the engine's own hourly steps
``server``  the Starlette application, its pages, rate limits and ``serve``
``send``    the dashboard's "Send to the class board" component
"""

from __future__ import annotations

__all__ = ["CLASS_DIR_ENV"]

#: Set in the class server's process: the session folder. The dashboard's send component shows
#: itself only when it is set (a plain ``relsim dashboard`` has no class board).
CLASS_DIR_ENV = "RELSIM_CLASS_DIR"
