"""Where the app keeps its data, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Paths and URLs the app needs; secrets never live here in clear text for display."""

    data_dir: Path
    """Folder for the default SQLite label database and caches."""
    database_url: str | None
    """SQLAlchemy URL of the label store; None means a SQLite file in ``data_dir``."""

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("LABELLER_DATA_DIR") or "data").expanduser()
        return cls(data_dir=data_dir, database_url=env.get("LABELLER_DATABASE_URL") or None)
