"""Background jobs (printing thousands of slips) with progress that the page can poll."""

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from .db import DATABASE_NAME, connect, new_id, now, write

log = logging.getLogger(__name__)
# Writing progress for every slip would cost a transaction each; a hundredth of the job is enough.
_STEPS = 100


def output_dir(app: Flask) -> Path:
    """Return the data folder's output/ folder, where jobs write their files."""
    folder = Path(app.config["DATA_DIR"]) / "output"
    folder.mkdir(exist_ok=True)
    return folder


def start(app: Flask, kind: str, total: int, work: Callable[[Path, Callable[[int, int], None]], None],
          suffix: str = ".pdf") -> str:
    """Run work(path, progress) in a thread and return the job id; the result is written to path."""
    job_id = new_id()
    db = connect(Path(app.config["DATA_DIR"]) / DATABASE_NAME)
    with write(db):
        db["job"].insert({"id": job_id, "kind": kind, "status": "running", "done": 0, "total": total,
                          "result": None, "error": None, "created_at": now(), "updated_at": now()})
    db.conn.close()
    path = output_dir(app) / f"{job_id}{suffix}"
    thread = threading.Thread(target=_run, args=(app, job_id, total, work, path), name=f"job-{job_id}", daemon=True)
    thread.start()
    return job_id


def _run(app: Flask, job_id: str, total: int, work, path: Path) -> None:
    db = connect(Path(app.config["DATA_DIR"]) / DATABASE_NAME)
    step = max(total // _STEPS, 1)

    def progress(done: int, _total: int) -> None:
        if done % step == 0 or done == total:
            with write(db):
                db.execute("UPDATE job SET done = ?, updated_at = ? WHERE id = ?", [done, now(), job_id])

    try:
        with app.app_context():
            work(path, progress)
        with write(db):
            db.execute("UPDATE job SET status = 'done', done = total, result = ?, updated_at = ? WHERE id = ?",
                       [path.name, now(), job_id])
        log.info("job %s finished", job_id)
    except Exception as error:  # noqa: BLE001 - a failed job is reported on its page, not lost in a thread
        log.exception("job %s failed", job_id)
        with write(db):
            db.execute("UPDATE job SET status = 'failed', error = ?, updated_at = ? WHERE id = ?",
                       [type(error).__name__, now(), job_id])
    finally:
        db.conn.close()


def get(db, job_id: str) -> dict | None:
    """Return a job's row, or None."""
    cursor = db.execute("SELECT * FROM job WHERE id = ?", [job_id])
    row = cursor.fetchone()
    return dict(zip([c[0] for c in cursor.description], row)) if row else None
