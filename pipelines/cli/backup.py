"""statedata backup / restore / compact: copy the warehouse aside, put the newest readable copy back, or write it anew
without its free blocks."""

import click

from pipelines.cli.common import fail, home_option, load_settings
from warehouse.backup import backup as backup_warehouse
from warehouse.backup import backups
from warehouse.backup import restore as restore_warehouse
from warehouse.compact import compact_warehouse, due, free_share
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


@click.command()
@click.option("--if-needed", is_flag=True, help="Only when STATEDATA_COMPACT_FREE % of it or more is free blocks.")
@home_option
def compact(if_needed, home):
    """Write the warehouse anew without its free blocks (the nightly run does it when STATEDATA_COMPACT_FREE % of it is
    free); every table of the new file is compared with the old before it takes its place."""
    settings = load_settings(home, writes=True)
    if not settings.warehouse.exists():
        fail(f"warehouse {settings.warehouse} does not exist yet: run `statedata run` first")
    try:
        with run_lock(settings.home, "compact"):
            share = free_share(settings.warehouse)
            if if_needed and not due(settings, share):
                click.echo(f"Not compacted: {share:.0%} of {settings.warehouse} is free blocks, below "
                           f"STATEDATA_COMPACT_FREE ({settings.compact_free:.0%}).")  # fmt: skip
                return
            size = settings.warehouse.stat().st_size / 2**20
            click.echo(f"Compacting {settings.warehouse} ({size:,.1f} MiB, {share:.0%} free blocks) …")
            done = compact_warehouse(settings)
    except (Busy, WarehouseError) as e:
        fail(str(e))
    click.echo(f"Compacted in {done.seconds:.1f}s: {done.before_bytes / 2**20:,.1f} MiB → "
               f"{done.after_bytes / 2**20:,.1f} MiB; every table compared with the old file.")  # fmt: skip
