"""statedata backup / restore: copy the warehouse aside, or put the newest readable copy back."""

import click

from pipelines.cli.common import fail, home_option, load_settings
from warehouse.backup import backup as backup_warehouse
from warehouse.backup import backups
from warehouse.backup import restore as restore_warehouse
from warehouse.db import WarehouseError
from warehouse.runlock import Busy, run_lock


@click.command()
@click.option(
    "--keep", type=click.IntRange(min=1), default=None, help="Backups to keep [default: STATEDATA_BACKUP_KEEP or 7]."
)
@home_option
def backup(keep, home):
    """Copy the warehouse to STATEDATA_HOME/backups (the nightly job does this after every run)."""
    settings = load_settings(home, writes=True)
    try:
        with run_lock(settings.home, "backup"):
            path = backup_warehouse(
                settings.warehouse, settings.backups_dir, keep=keep if keep is not None else settings.backup_keep
            )
    except (Busy, WarehouseError) as e:
        fail(str(e))
    click.echo(
        f"Backed up to {path} ({path.stat().st_size / 2**20:,.1f} MiB); "
        f"{len(backups(settings.backups_dir))} backups kept in {settings.backups_dir}."
    )


@click.command()
@home_option
def restore(home):
    """Put the newest readable backup in place of the warehouse (a damaged file is kept aside)."""
    settings = load_settings(home, writes=True)
    try:
        with run_lock(settings.home, "restore"):
            used = restore_warehouse(settings.warehouse, settings.backups_dir)
    except (Busy, WarehouseError) as e:
        fail(str(e))
    click.echo(f"Restored {settings.warehouse} from {used}.")
