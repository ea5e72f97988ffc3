"""Benchmark: how long the review portal (docs/portal.md) takes to serve its pages, in this process with Django's
test client, on the snapshot a completed run published. Not a test of behaviour: it asserts only that every page
answers 200, and measures.

Signed in as the quality office and as a department's collector, it requests each page several times: the board
(/board/), a department's page, the page of its failing rule with the most failing rows, and the audit log. The
first request of each page is shown apart from the following ones: the very first one of the process re-tests the
explanations and signatures (the re-test marker is cleared before it, as after a new run) and every first one
fills the process's caches (the snapshot's connection and the rule set are opened before, and timed apart). It
also times ``review.retest(force=True)`` and ``review.gate`` on their own, and prints the peak memory (RSS).

Without ``--home`` it uses (and, when missing, builds: `statedata demo` then `statedata run`, a few minutes) a
demo of ``--scale`` in the temporary folder. A fresh demo has no signatures nor explanations, so the re-test and
the gate have nothing to check; ``--seed`` first signs every department's 上报确认书 as its head and records an
approved waiver of the rule measured (it writes to the portal's state of that folder: for a demo folder only).
Usage:

    python scripts/bench_portal.py                                  # the large demo, 5 repeats
    python scripts/bench_portal.py --home /tmp/bench-large --seed   # signatures and a waiver to re-test
    python scripts/bench_portal.py --home /tmp/bench-large --profile cprofile --profile-dir /tmp/prof
"""

import argparse
import cProfile
import io
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUALITY_USER = "质量办"  # the demo's quality-office user (portal/users.py)
PROJECT = ("portal", "expectations", "reporting", "model", "warehouse")  # folders whose functions are summarised


@dataclass
class Timing:
    label: str
    first: float
    rest: list[float] = field(default_factory=list)

    def row(self) -> str:
        median = statistics.median(self.rest) if self.rest else float("nan")
        most = max(self.rest) if self.rest else float("nan")
        return f"{pad(self.label, 48)}{self.first:>10.3f}{median:>10.3f}{most:>10.3f}"


def pad(text: str, width: int) -> str:
    """``text`` left-aligned in ``width`` terminal columns (a Chinese character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, default=None, help="a working folder with a completed run (default: a demo)")
    ap.add_argument("--scale", default="large", help="demo scale without --home (small, default, large)")
    ap.add_argument("--repeat", type=int, default=5, help="requests of each page after the first (default 5)")
    ap.add_argument("--year", default=None, help="academic year (default: the one the rules last checked)")
    ap.add_argument("--dept", default=None, help="department page (default: the owner of the rule measured)")
    ap.add_argument("--rule", default=None, help="rule page (default: the failing rule with the most failing rows)")
    ap.add_argument("--quality-user", default=QUALITY_USER, help=f"quality-office user (default {QUALITY_USER})")
    ap.add_argument("--collector-user", default=None, help="collector (default: one of the department's collectors)")
    ap.add_argument("--also", action="append", default=[], metavar="URL",
                    help="another page to time as the quality office, e.g. /calendar/ (repeatable)")  # fmt: skip
    ap.add_argument("--seed", action="store_true", help="sign every department and waive the rule first (demo only)")
    ap.add_argument("--profile", choices=["cprofile", "pyinstrument"], default=None,
                    help="then profile one more request of each page (and the re-test and the gate)")  # fmt: skip
    ap.add_argument("--profile-dir", type=Path, default=None, help="where to write the profiles (.prof / .txt)")
    ap.add_argument("--profile-top", type=int, default=15, help="functions listed per profile (default 15)")
    args = ap.parse_args()

    home = (args.home or Path(tempfile.gettempdir()) / f"statedata-bench-portal-{args.scale}").resolve()
    ensure_run(home, args.scale)
    bench(home, args)


def ensure_run(home: Path, scale: str) -> None:
    """A working folder with a completed run: make the demo and run it when the folder has none."""
    if (home / "warehouse.duckdb").exists() and any((home / "backups").glob("*.duckdb")):
        return
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STATEDATA_", "DAGSTER_"))}
    env["STATEDATA_HOME"] = str(home)
    exe = [sys.executable, "-m", "pipelines.cli"]
    if not (home / "demo" / "manifest.json").exists():
        step(f"statedata demo --scale {scale} into {home}", [*exe, "demo", "--scale", scale], env)
    step("statedata run (a few minutes at the large scale)", [*exe, "run", "--quiet"], env)


def step(what: str, cmd: list[str], env: dict) -> None:
    print(f"{what} …", flush=True)
    t = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, cwd=ROOT)
    print(f"  done in {time.perf_counter() - t:.0f}s", flush=True)


def bench(home: Path, args) -> None:
    import portal
    from model.settings import Settings

    settings = Settings.from_env({"STATEDATA_HOME": str(home)})
    t = time.perf_counter()
    portal.setup(settings)
    setup_s = time.perf_counter() - t

    from django.contrib.auth import get_user_model
    from django.test import Client

    from portal import data, review
    from portal.models import Department, Membership, PortalState

    t = time.perf_counter()
    snap = data.latest(settings)
    open_s = time.perf_counter() - t
    t = time.perf_counter()
    data.rules(settings)
    rules_s = time.perf_counter() - t
    year = args.year or data.default_year(snap.con)
    rule_id, failing = args.rule, None
    if rule_id is None:
        rule_id, failing = worst_rule(settings, snap.con, year)
    rule = data.rule(settings, rule_id)
    if rule is None:
        sys.exit(f"no rule {rule_id} in the rule set")
    dept_name = args.dept or rule.owner
    users = get_user_model().objects
    quality = users.get(username=args.quality_user)
    if args.collector_user:
        collector = users.get(username=args.collector_user)
    else:
        member = Membership.objects.filter(role=Membership.COLLECTOR, department__name=dept_name).first()
        if member is None:
            sys.exit(f"no collector for {dept_name}: give --collector-user")
        collector = member.user
    dept = Department.objects.get_or_create(name=dept_name)[0]  # as the pages do on a new working folder
    rule_dept = Department.objects.get_or_create(name=rule.owner)[0]
    if args.seed:
        seed(settings, snap, year, rule_id, rule_dept, quality)

    print(f"working folder {home}\nsnapshot {snap.name}, year {year}")
    print(f"once per process (before the first request here): portal setup {setup_s:.2f}s, opening the snapshot "
          f"{open_s:.2f}s, loading the rule set {rules_s:.2f}s")  # fmt: skip
    if failing is None:
        failing = len(data.failing_rows(snap.con, year, rule_id))
    print(f"department {dept_name}; rule {rule_id} ({rule.severity}, {failing:,} failing rows, of {rule.owner})")
    print(f"users: {quality.get_username()} (quality office), {collector.get_username()} (collector)\n")

    dept_url, rule_url = f"/dept/{dept.pk}/", f"/dept/{rule_dept.pk}/rule/{rule_id}/"
    pages = {
        quality.get_username(): ["/board/", dept_url, rule_url, "/audit/", *args.also],
        collector.get_username(): [dept_url, rule_url],
    }
    clients = {}
    for user in (quality, collector):
        c = Client()
        c.force_login(user)
        clients[user.get_username()] = c

    PortalState.objects.filter(key="tested_snapshot").update(value="")  # the first request re-tests, as after a run
    timings = []
    for who, urls in pages.items():
        for url in urls:
            timings.append(measure(f"{who} {url}", lambda c=clients[who], u=url: get(c, u), args.repeat))
    timings.append(measure("review.retest(force=True)", lambda: review.retest(settings, force=True), args.repeat))
    timings.append(measure("review.gate", lambda: review.gate(settings, snap.con, year), args.repeat))

    print(f"{pad('page', 48)}{'first s':>10}{'median s':>10}{'max s':>10}   (median and max of the next {args.repeat})")
    for t in timings:
        print(t.row())
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    print(f"signatures checked by the gate: {len(signed_departments(year))}; "
          f"what the gate says is missing: {len(review.gate(settings, snap.con, year))} departments")  # fmt: skip

    if args.profile:
        if args.profile_dir:
            args.profile_dir.mkdir(parents=True, exist_ok=True)
        for who, urls in pages.items():
            for url in urls:
                profile(f"{who} {url}", lambda c=clients[who], u=url: get(c, u), args)
        profile("review.retest(force=True)", lambda: review.retest(settings, force=True), args)
        profile("review.gate", lambda: review.gate(settings, snap.con, year), args)


def worst_rule(settings, con, year: str) -> tuple[str, int]:
    """The failing rule of the year with the most failing rows (of the rule set, so that it has a page)."""
    from portal import data

    known = {r.id for r in data.rules(settings)}
    failing = [(v["failing"], k) for k, v in data.results(con, year).items() if not v["passed"] and k in known]
    if not failing:
        sys.exit(f"no rule fails in {year}: give --rule")
    count, rule_id = max(failing)
    return rule_id, count


def get(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return response


def measure(label: str, fn, repeat: int) -> Timing:
    t = time.perf_counter()
    fn()
    out = Timing(label, time.perf_counter() - t)
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.rest.append(time.perf_counter() - t)
    print(f"  {label}: {out.first:.3f}s, then {statistics.median(out.rest) if out.rest else 0:.3f}s", flush=True)
    return out


def signed_departments(year: str) -> list[str]:
    from portal.models import SignOff

    return list(
        SignOff.objects.filter(academic_year=year, state=SignOff.VALID).values_list("department__name", flat=True)
    )


def seed(settings, snap, year: str, rule_id: str, rule_dept, quality) -> None:
    """Give the re-test and the gate something to check: an approved waiver of every failing row of the rule
    measured, then a 上报确认书 of every department that owns a national table (signed by its head, whatever it
    still has open; after the waiver, which it binds). Kept across runs of this script: only what is missing is
    added."""
    from django.utils import timezone

    from portal import auditlog, data, review
    from portal.models import Department, Explanation, Membership

    t = time.perf_counter()
    if not Explanation.objects.filter(academic_year=year, rule_id=rule_id, state=Explanation.APPROVED).exists():
        failing = data.failing_rows(snap.con, year, rule_id)
        rule = data.rule(settings, rule_id)
        e = Explanation.objects.create(
            academic_year=year, rule_id=rule_id, severity=rule.severity, department=rule_dept,
            rows=[dict(id=rid, hash=h, label=rid) for rid, (h, _) in failing.items()],
            reason="bench_portal.py --seed", created_by=quality, state=Explanation.APPROVED, decided_by=quality,
            decided_at=timezone.now(), expires=timezone.localdate() + timedelta(days=365),
        )  # fmt: skip
        auditlog.record(quality, "explain", f"情况说明 #{e.id} {rule_id}", review.sha256_json(e.rows), seed=True)
    signed = set(signed_departments(year))
    owners = sorted({data.owner(settings, table) for table in data.tables_of(settings, year)})
    for name in owners:
        if name in signed:
            continue
        dept = Department.objects.get_or_create(name=name)[0]
        head = Membership.objects.filter(role=Membership.HEAD, department=dept).first()
        review.sign(settings, snap.con, snap.name, year, dept, head.user if head else quality)
    print(f"seeded: {len(owners)} departments signed, a waiver of {rule_id} ({time.perf_counter() - t:.1f}s)")


def profile(label: str, fn, args) -> None:
    """One more call of ``fn`` under the profiler: where its time goes."""
    name = "".join(ch if ch.isalnum() else "_" for ch in label).strip("_")
    print(f"\n== profile: {label}")
    if args.profile == "pyinstrument":
        from pyinstrument import Profiler

        p = Profiler(interval=0.001)
        p.start()
        fn()
        p.stop()
        text = p.output_text(unicode=True, color=False, short_mode=True)
        if args.profile_dir:
            (args.profile_dir / f"{name}.txt").write_text(text, encoding="utf-8")
        print(text)
        return
    p = cProfile.Profile()
    p.enable()
    fn()
    p.disable()
    if args.profile_dir:
        p.dump_stats(args.profile_dir / f"{name}.prof")
    stats = pstats.Stats(p)
    total = stats.total_tt
    ours = []
    for (path, line, func), (_, calls, own, cum, _) in stats.stats.items():
        parts = Path(path).parts
        if ROOT in Path(path).parents and len(parts) > 1 and Path(path).relative_to(ROOT).parts[0] in PROJECT:
            ours.append((cum, own, calls, f"{Path(path).relative_to(ROOT)}:{func}"))
    print(f"total {total:.3f}s; our functions by cumulative time (share of the total):")
    for cum, own, calls, where in sorted(ours, reverse=True)[: args.profile_top]:
        print(f"  {cum:>8.3f}s {cum / total:>5.0%}  own {own:>7.3f}s  {calls:>7,} calls  {where}")
    out = io.StringIO()
    pstats.Stats(p, stream=out).sort_stats("tottime").print_stats(8)
    body = out.getvalue()
    print("most time spent in (own time):")
    print(body[body.index("ncalls") :].rstrip() if "ncalls" in body else body)


if __name__ == "__main__":
    main()
