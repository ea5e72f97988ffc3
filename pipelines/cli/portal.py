"""statedata portal: the review portal (docs/portal.md) on http://HOST:PORT, or a user given a role."""

import click

import portal as review_portal
from pipelines.cli.common import fail, home_option, load_settings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--add-user", "username", default=None, help="Create a user (or give it one more role) and exit.")
@click.option("--role", type=click.Choice(["collector", "head", "quality", "leader", "auditor"]), default=None,
              help="With --add-user: 数据采集员, 部门负责人, 质量办, 校领导, 审计.")  # fmt: skip
@click.option("--dept", default=None, help="With --add-user, for collector and head: the department, e.g. 人事处.")
@home_option
def portal(host, port, username, role, dept, home):
    """Serve the review portal: departments explain and sign off, the quality office steers, auditors look.

    Its state (users, explanations, signatures, evidence, the audit log) is kept in STATEDATA_HOME/portal
    (SQLite) or STATEDATA_PORTAL_DATABASE_URL (PostgreSQL); it reads the data each completed run publishes."""
    settings = load_settings(home, writes=True)
    try:
        review_portal.setup(settings)
    except Exception as e:  # a database that cannot be reached or migrated: one line, no trace
        fail(f"the portal's database could not be opened or brought up to date: {e}")
    if username:
        if not role:
            fail("--add-user needs --role", 2)
        password = click.prompt(f"Password for {username}", hide_input=True, confirmation_prompt=True)
        try:
            review_portal.add_user(settings, username, password, role, dept)
        except ValueError as e:
            fail(str(e), 2)
        click.echo(f"{username}: role {role}{' for ' + dept if dept else ''} given.")
        return
    click.echo(f"Review portal on http://{host}:{port}/ (state in {settings.home / 'portal'}); Ctrl-C stops it.")
    review_portal.serve(settings, host, port)
