"""The `statedata` command: the user-facing entry point. One module per command below this package;
a command's module is imported only when that command runs (so `statedata --help` does not load Dagster).

statedata demo            generate the demo college's source systems (SQLite + Excel/CSV drops)
statedata init            draft a mapping file for a new source by introspection
statedata doctor          check the college's mappings against the model and the live sources
statedata run             run the whole pipeline for an academic year, with progress and a summary
statedata package         the submission package of a year (refused while error rules fail)
statedata failures        what each department must fix at the source
statedata trace           explain one number down to its source rows
statedata report          the data-analysis report (college and departments), drafted from the data
statedata score           the rules against the demo's injected defects
statedata forms           blank department forms for the tables no system holds
statedata backup/restore  copy the warehouse aside / put the newest readable copy back
statedata compact         write the warehouse anew without its free blocks
statedata dev             the Dagster UI on this project
statedata portal          the review portal for departments, the quality office, leaders and auditors
"""

import importlib

import click

# command -> (module of this package that defines it, a function of the same name; its line in --help)
COMMANDS = {
    "demo": ("demo", "Generate the demo college's source systems."),
    "init": ("init", "Draft a mapping file for a new source by introspection."),
    "doctor": ("doctor", "Check the college's mappings against the model and the live sources."),
    "run": ("run", "Run the whole pipeline for one academic year."),
    "package": ("package", "The submission package of a year (refused while error rules fail)."),
    "failures": ("failures", "What each department must fix at the source."),
    "trace": ("trace", "Explain one number down to its source rows."),
    "report": ("report", "The data-analysis report of a year, drafted from the data (docx, html)."),
    "score": ("score", "The rules against the demo's injected defects."),
    "forms": ("forms", "Blank department forms for the tables no system holds."),
    "backup": ("backup", "Copy the warehouse to STATEDATA_HOME/backups."),
    "restore": ("backup", "Put the newest readable backup in place of the warehouse."),
    "compact": ("backup", "Write the warehouse anew without its free blocks."),
    "dev": ("dev", "Open the Dagster UI on this project."),
    "portal": ("portal", "The review portal: explain, sign off, steer, audit (in a browser)."),
}


class _Commands(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        return getattr(importlib.import_module(f"{__name__}.{COMMANDS[name][0]}"), name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from COMMANDS: `statedata --help` imports no command (nor Dagster)."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, line) for name, (_, line) in COMMANDS.items()])


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="statedata")
def main():
    """statedata: a college's national status-data tables (人才培养工作状态数据), every night, from its own systems.

    \b
    First time? Try the demo college:
      statedata demo          # writes demo source systems under ./data/demo
      statedata run           # runs the pipeline; prints the output folder and row counts
      statedata dev           # browse assets, runs and checks in the Dagster UI
    \b
    Everything lives under STATEDATA_HOME (default ./data). Real sources are configured by the
    mapping files (STATEDATA_MAPPINGS) and one environment variable per source, e.g.
    STATEDATA_HR_URL=postgresql://user@host/hr; see README.md and docs/mapping.md.
    """
