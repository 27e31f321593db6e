"""Settings: the data folder and the values kept in it."""

import os
import secrets
from pathlib import Path

DEFAULT_DATA_DIR = "fieldapp-data"


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Return the data folder: the argument, else FIELDAPP_DATA_DIR, else ./fieldapp-data; create it."""
    chosen = explicit or os.environ.get("FIELDAPP_DATA_DIR") or DEFAULT_DATA_DIR
    path = Path(chosen).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_key(folder: Path) -> str:
    """Return the session-signing key kept in the data folder, making it on first start."""
    key_file = folder / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32), encoding="ascii")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="ascii").strip()
