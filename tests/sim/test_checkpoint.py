"""The simulator's WAL checkpoints run on their own thread, and copy the whole log."""

from __future__ import annotations

from sqlalchemy import event, text

from shopops.db import make_engine
from shopops.sim.checkpoint import Checkpointer
from shopops.sim.run import _sim_pragmas


def test_a_kick_copies_the_log_the_commits_left(tmp_path) -> None:
    path = tmp_path / "shop.db"
    engine = make_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", _sim_pragmas)
    checkpointer = Checkpointer(engine)
    try:
        with engine.begin() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
            conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"))
            conn.execute(text("INSERT INTO t (body) VALUES (:b)"), [{"b": "x" * 500}] * 5000)
        # The pool keeps the writer's connection open, so nothing checkpoints at its close:
        # the rows are only in the log until the kick.
        with engine.connect() as conn:
            assert path.stat().st_size < 100_000
            checkpointer.kick()
            checkpointer.close()
            assert path.stat().st_size > 5000 * 500  # the pages are in the database file
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 5000
    finally:
        checkpointer.close()
        engine.dispose()


def test_no_thread_for_postgresql_urls() -> None:
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none")
    checkpointer = Checkpointer(engine)
    assert checkpointer.path is None
    checkpointer.kick()
    checkpointer.close()
    engine.dispose()
