"""The review portal's state in a real PostgreSQL server (STATEDATA_PORTAL_DATABASE_URL): migrations, users,
a signature, the audit chain, and `statedata package` reading the signatures from it."""

import json
import os
import shutil
import subprocess
import sys

import pytest
import sqlalchemy as sa

from tests.conftest import ACADEMIC_YEAR, cli_env
from tests.integration.servers import PostgresServer, postgres_bin
from tests.portal.conftest import portal_python


@pytest.fixture(scope="module")
def pg():
    if postgres_bin() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("postgresql is not installed: .ci/run should have installed it")
        pytest.skip("postgresql is not installed (apt-get install postgresql)")
    server = PostgresServer().start()
    try:
        server.create_database("portal")
        yield server
    finally:
        server.stop()


def test_the_portal_keeps_its_state_in_postgresql(pg, ran_src, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(ran_src[0], home, symlinks=True)
    env = {"STATEDATA_PORTAL_DATABASE_URL": pg.url("portal", driver="postgresql")}
    out = portal_python(home, f"""
import json
from django.db import connection
from portal import auditlog, data, review
from portal.models import Department
from portal.users import add_user
snap = data.latest(settings)
owners = sorted({{data.owner(settings, t) for t in data.tables_of(settings, {ACADEMIC_YEAR!r})}})
for d in owners:
    review.sign(settings, snap.con, snap.name, {ACADEMIC_YEAR!r}, Department.objects.get_or_create(name=d)[0],
                add_user("head-" + d, "pg-test-password", "head", d))
print(json.dumps(dict(vendor=connection.vendor, owners=owners, chain=auditlog.verify())))
""", env=env)  # fmt: skip
    result = json.loads(out.strip().splitlines()[-1])
    assert (
        result["vendor"] == "postgresql" and result["chain"][1] is None and result["chain"][0] >= len(result["owners"])
    )
    assert not (home / "portal" / "portal.sqlite3").exists()  # nothing went to the embedded database
    engine = sa.create_engine(pg.url("portal"))
    with engine.connect() as c:
        signed = c.execute(sa.text("select count(*) from portal_signoff where state = 'valid'")).scalar()
        users = c.execute(sa.text("select count(*) from auth_user")).scalar()
    engine.dispose()
    assert signed == len(result["owners"]) and users == len(result["owners"])
    res = subprocess.run([sys.executable, "-m", "pipelines.cli", "package", "--year", ACADEMIC_YEAR, "--draft"],
                         env=cli_env(home) | env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    folder = next(p for p in (home / "out" / "packages").iterdir() if p.is_dir())
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(s["department"] for s in manifest["review"]["signoffs"]) == result["owners"]
    assert not any(b.startswith("unsigned:") for b in manifest["blocking_rules"])  # only the demo's defects
