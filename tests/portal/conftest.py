"""The portal's tier: Django's test client in this process, on a copy of the session's small-demo run (one
portal database per worker process; each test makes the objects it needs), and a real browser against
`statedata portal` in tests/portal/test_browser.py."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from model.settings import Settings
from tests.conftest import ACADEMIC_YEAR, cli_env

PASSWORD = "portal-test-pw"


@pytest.fixture(scope="session")
def site(ran_src, tmp_path_factory):
    """The portal set up in this process on its own copy of the run (sources, warehouse, published backup),
    with one user per role: a collector and a head for two departments, the college-wide roles, and a user
    with no role. Yields a namespace of what the tests need."""
    home = tmp_path_factory.mktemp("portal") / "home"
    shutil.copytree(ran_src[0], home, symlinks=True)
    settings = Settings.from_env({"STATEDATA_HOME": str(home)})
    import portal

    portal.setup(settings)
    from django.test.utils import override_settings

    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    fast.enable()  # test users only: the portal itself hashes with PBKDF2
    from django.contrib.auth import get_user_model

    from portal import data
    from portal.users import add_user

    snap = data.latest(settings)
    rules = {r.id: r for r in data.rules(settings)}
    failing = data.results(snap.con, ACADEMIC_YEAR)
    failing = [rules[k] for k, v in sorted(failing.items()) if not v["passed"] and k in rules]
    errors = {r.owner for r in failing if r.severity == "error"}
    # a department with a failing error rule and a failing warning rule, and another with a failing error rule
    a = next(r.owner for r in failing if r.severity == "warning" and r.owner in errors)
    b = sorted(errors - {a})[0]
    users = {
        "collector_a": add_user("collector_a", PASSWORD, "collector", a),
        "head_a": add_user("head_a", PASSWORD, "head", a),
        "collector_b": add_user("collector_b", PASSWORD, "collector", b),
        "head_b": add_user("head_b", PASSWORD, "head", b),
        "quality": add_user("quality", PASSWORD, "quality"),
        "leader": add_user("leader", PASSWORD, "leader"),
        "auditor": add_user("auditor", PASSWORD, "auditor"),
        "nobody": get_user_model().objects.create_user("nobody", password=PASSWORD),
    }
    yield Site(home, settings, a, b, users, failing)
    fast.disable()


class Site:
    def __init__(self, home: Path, settings, a: str, b: str, users: dict, failing: list):
        self.home, self.settings, self.a, self.b, self.users, self.failing = home, settings, a, b, users, failing
        self.year = ACADEMIC_YEAR

    def rule_of(self, dept: str, severity: str = "error"):
        return next(r for r in self.failing if r.owner == dept and r.severity == severity)

    def client(self, who: str | None):
        from django.test import Client

        c = Client()
        if who:
            c.force_login(self.users[who])
        return c

    def department(self, name: str):
        from portal.models import Department

        return Department.objects.get_or_create(name=name)[0]


@pytest.fixture(autouse=True)
def _this_site(request):
    """Tests elsewhere in this process may have pointed the portal at another folder (tests/conftest.py's
    sign_all): point it back at this tier's site before each test that uses it."""
    if "site" in request.fixturenames:
        import portal

        portal.setup(request.getfixturevalue("site").settings, migrate=False)
    yield


def portal_python(home: Path, code: str, timeout: int = 300, env: dict | None = None) -> str:
    """Run ``code`` in a separate Python process with the portal set up on ``home`` (this process's portal stays
    on its own folder); ``settings`` is defined for the code; ``env``: more variables. Returns what it printed."""
    prelude = (
        "import portal\nfrom model.settings import Settings\nsettings = Settings.from_env()\nportal.setup(settings)\n"
    )
    res = subprocess.run([sys.executable, "-c", prelude + code], env=cli_env(home) | (env or {}),
                         capture_output=True, text=True, timeout=timeout)  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    return res.stdout
