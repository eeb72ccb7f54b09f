"""Where gunicorn's workers keep their Prometheus metrics, set up before anything counts.

prometheus-client sums metrics across processes only in its multiprocess mode: every
worker writes its values to files in ``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics``
(whichever worker answers it) reads all of them. The variable must be set before
prometheus-client is first imported, so gunicorn.conf.py calls :func:`prepare` before
the app is loaded. This module does not import prometheus-client.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def prepare(environ: os._Environ[str] | dict[str, str] = os.environ) -> tuple[Path, bool]:
    """Point ``PROMETHEUS_MULTIPROC_DIR`` at an empty folder; say whether we made it.

    A folder the operator set is kept but emptied of metric files: values left by an
    earlier run would otherwise be added to this one's. Without one, a fresh private
    folder is made (and removed by :func:`remove` when gunicorn exits).
    """
    given = environ.get(VARIABLE)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        return folder, False
    folder = Path(tempfile.mkdtemp(prefix="toneflow-metrics-"))
    environ[VARIABLE] = str(folder)
    return folder, True


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
