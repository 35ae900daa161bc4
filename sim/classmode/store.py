"""The class session's database: one SQLite file (WAL mode) in the session's folder.

Tables: ``meta`` (class code, teacher key, exercise, board version), ``students``, ``runs`` (every
run ever sent; clearing the board marks runs as cleared, so the export stays complete) and
``pairs`` (pair games with their engine state, so a restart resumes them). One connection is
shared by the server's threads behind a lock; every write is its own transaction.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from ..outcomes import LABELS
from .config import Exercise

__all__ = ["CODE_ALPHABET", "DB_NAME", "Store", "new_code"]

DB_NAME = "class.sqlite"
#: Class codes use letters and digits that cannot be mistaken for one another (no 0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS students (
    id TEXT PRIMARY KEY, joined REAL NOT NULL, last_seen REAL NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, created REAL NOT NULL, student TEXT NOT NULL,
    grp TEXT NOT NULL, kind TEXT NOT NULL, scenario TEXT NOT NULL, config TEXT NOT NULL,
    config_key TEXT NOT NULL, label TEXT NOT NULL, couples INTEGER NOT NULL,
    days INTEGER NOT NULL, seed INTEGER NOT NULL, stable INTEGER NOT NULL,
    spiraling INTEGER NOT NULL, distant INTEGER NOT NULL, dissolved INTEGER NOT NULL,
    cleared INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS pairs (
    id TEXT PRIMARY KEY, created REAL NOT NULL, style_a TEXT NOT NULL, style_b TEXT NOT NULL,
    days INTEGER NOT NULL, seed INTEGER NOT NULL, day INTEGER NOT NULL,
    player_a TEXT, player_b TEXT, grp TEXT NOT NULL, choices TEXT NOT NULL,
    history TEXT NOT NULL, state BLOB, finished INTEGER NOT NULL DEFAULT 0,
    outcome TEXT, cleared INTEGER NOT NULL DEFAULT 0);
"""


def new_code(length: int = CODE_LENGTH) -> str:
    """A random code of ``length`` characters from :data:`CODE_ALPHABET`."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


class Store:
    """The session's database at ``folder/class.sqlite`` (created with its codes if new)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / DB_NAME
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                   timeout=10)  # fmt: skip
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
            defaults = {"class_code": new_code(), "teacher_key": secrets.token_urlsafe(18),
                        "exercise": Exercise().to_json(), "version": "0",
                        "created": str(time.time())}  # fmt: skip
            for key, value in defaults.items():
                if key not in meta:
                    self._db.execute("INSERT INTO meta VALUES (?, ?)", (key, value))
                    meta[key] = value
            self._db.execute("COMMIT")
        self.class_code: str = meta["class_code"]
        self.teacher_key: str = meta["teacher_key"]
        self._version = int(meta["version"])

    def close(self) -> None:
        """Close the connection (the WAL is folded back into the file)."""
        with self._lock:
            self._db.close()

    # -- meta -------------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """A number that grows whenever the board changes (runs, clearing, exercise)."""
        return self._version

    def _bump(self) -> None:
        self._version += 1
        self._db.execute("UPDATE meta SET value = ? WHERE key = 'version'", (str(self._version),))

    def exercise(self) -> Exercise:
        """The exercise the teacher set (the default one until then)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'exercise'").fetchone()
        return Exercise.from_json(row[0])

    def set_exercise(self, exercise: Exercise) -> None:
        """Store the teacher's exercise."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("UPDATE meta SET value = ? WHERE key = 'exercise'",
                             (exercise.to_json(),))  # fmt: skip
            self._bump()
            self._db.execute("COMMIT")

    # -- students ---------------------------------------------------------------------------

    def student_count(self) -> int:
        """Students who have joined this session."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM students").fetchone()[0])

    def has_student(self, student: str) -> bool:
        """Whether ``student`` joined this session."""
        with self._lock:
            row = self._db.execute("SELECT 1 FROM students WHERE id = ?", (student,)).fetchone()
        return row is not None

    def add_student(self, limit: int) -> str | None:
        """Register a new student and return their id, or None when ``limit`` have joined."""
        student = secrets.token_urlsafe(12)
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            count = self._db.execute("SELECT COUNT(*) FROM students").fetchone()[0]
            if count >= limit:
                self._db.execute("ROLLBACK")
                return None
            self._db.execute("INSERT INTO students VALUES (?, ?, ?)", (student, now, now))
            self._db.execute("COMMIT")
        return student

    # -- runs -------------------------------------------------------------------------------

    def add_run(self, *, student: str, group: str, kind: str, scenario: str,
                config: Mapping[str, object], config_key: str, label: str,
                counts: Mapping[str, int]) -> int:  # fmt: skip
        """Store one run sent to the board; return its number."""
        row = (time.time(), student, group, kind, scenario, json.dumps(dict(config)), config_key,
               label, int(config["couples"]), int(config["days"]), int(config["seed"]),
               *(int(counts[label_]) for label_ in LABELS))  # fmt: skip
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            cursor = self._db.execute(
                "INSERT INTO runs (created, student, grp, kind, scenario, config, config_key, "
                "label, couples, days, seed, stable, spiraling, distant, dissolved) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            self._bump()
            self._db.execute("COMMIT")
        return int(cursor.lastrowid or 0)

    def runs(self, *, include_cleared: bool = False) -> list[dict[str, object]]:
        """Every run on the board (or ever sent, with ``include_cleared``), oldest first."""
        where = "" if include_cleared else "WHERE cleared = 0"
        with self._lock:
            cursor = self._db.execute(f"SELECT * FROM runs {where} ORDER BY id")
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        return [dict(zip(names, row, strict=True)) for row in rows]

    def clear_board(self) -> int:
        """Take every run and finished pair game off the board (the export keeps them).

        Returns the number of runs taken off.
        """
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            count = self._db.execute("UPDATE runs SET cleared = 1 WHERE cleared = 0").rowcount
            self._db.execute("UPDATE pairs SET cleared = 1 WHERE cleared = 0 AND finished = 1")
            self._bump()
            self._db.execute("COMMIT")
        return int(count)

    # -- pairs ------------------------------------------------------------------------------

    def add_pair(self, pair: Mapping[str, object]) -> None:
        """Store a new pair game (``sim.classmode.pair.PairGame.record``)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT INTO pairs (id, created, style_a, style_b, days, seed, day, player_a, "
                "player_b, grp, choices, history, state, finished, outcome) VALUES "
                "(:id, :created, :style_a, :style_b, :days, :seed, :day, :player_a, :player_b, "
                ":grp, :choices, :history, :state, :finished, :outcome)",
                dict(pair),
            )
            self._bump()
            self._db.execute("COMMIT")

    def pair(self, pair_id: str) -> dict[str, object] | None:
        """The stored pair game ``pair_id``, or None."""
        with self._lock:
            cursor = self._db.execute("SELECT * FROM pairs WHERE id = ?", (pair_id,))
            names = [d[0] for d in cursor.description]
            row = cursor.fetchone()
        return None if row is None else dict(zip(names, row, strict=True))

    def pairs(self, *, include_cleared: bool = False) -> list[dict[str, object]]:
        """Pair games without their engine state, oldest first.

        Clearing the board takes finished games off it; ``include_cleared`` lists every game.
        """
        where = "" if include_cleared else "WHERE cleared = 0"
        with self._lock:
            cursor = self._db.execute(
                "SELECT id, created, style_a, style_b, days, seed, day, player_b IS NOT NULL, "
                f"grp, history, finished, outcome FROM pairs {where} ORDER BY created"
            )
            rows = cursor.fetchall()
        names = ("id", "created", "style_a", "style_b", "days", "seed", "day", "joined", "grp",
                 "history", "finished", "outcome")  # fmt: skip
        return [dict(zip(names, row, strict=True)) for row in rows]

    def pair_count(self) -> int:
        """Pair games started in this session."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM pairs").fetchone()[0])

    def update_pair(self, pair_id: str, changes: Mapping[str, object],
                    expect_day: int | None = None) -> bool:  # fmt: skip
        """Write ``changes`` to a pair game; with ``expect_day``, only if it is still that day."""
        names = ", ".join(f"{name} = :{name}" for name in changes)
        query = f"UPDATE pairs SET {names} WHERE id = :id"
        params = {**changes, "id": pair_id}
        if expect_day is not None:
            query += " AND day = :expect_day"
            params["expect_day"] = expect_day
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            done = self._db.execute(query, params).rowcount
            if done and ("day" in changes or "player_b" in changes):
                self._bump()  # the board lists pair games and how far they are
            self._db.execute("COMMIT")
        return bool(done)
