"""Running the real `newscrawl` command in a subprocess (a Scrapy reactor runs once per process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def newscrawl(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    environment = {name: value for name, value in os.environ.items() if name != "NEWSCRAWL_DB"}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=300)
