"""statedata dev: the Dagster UI on this project."""

import os
import signal
import sys
from pathlib import Path

import click

from pipelines.cli.common import dagster_home, home_option, load_settings


@click.command()
@click.option("--port", default=3000, show_default=True)
@home_option
def dev(port, home):
    """Open the Dagster UI (asset graph, runs, checks, schedule) on http://127.0.0.1:PORT."""
    settings = load_settings(home)
    dagster_home(settings)
    # the code location starts in the repository folder: give it this command's folders, resolved
    os.environ["STATEDATA_HOME"] = str(settings.home)
    os.environ["STATEDATA_MAPPINGS"] = str(settings.mappings_dir)
    root = Path(__file__).resolve().parents[2]
    cmd = [sys.executable, "-m", "dagster", "dev", "-w", str(root / "workspace.yaml"), "-h", "127.0.0.1"]
    # Started from a script or in the background, SIGINT may be ignored; dagster copies that to SIGTERM and
    # then cannot be stopped. Restore the defaults and become `dagster dev` itself.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.chdir(root)
    os.execv(sys.executable, [*cmd, "-p", str(port)])
