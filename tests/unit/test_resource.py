"""The run-scoped state of the statedata resource: what one step of a whole run hands to a later one."""

from assets.resources import StatedataResource

YEAR, OTHER = "2026-2027", "2025-2026"


def test_the_rules_fingerprints_reach_the_exports_of_the_same_whole_run_once():
    prints = {("platform", "student"): "3:42"}
    part = StatedataResource(home="unused")  # a run of part of the graph: no whole-run year
    part.hand_over(YEAR, prints)
    assert part.handed_over() == {}

    whole = StatedataResource(home="unused")
    whole._whole_year = YEAR  # as yield_for_execution sets it for a run of the whole graph
    whole.hand_over(OTHER, prints)  # another year's rules: not this run's
    assert whole.handed_over() == {}
    whole.hand_over(YEAR, prints)
    prints[("core", "staff")] = "1:1"  # a later change to the caller's cache is not handed over
    assert whole.handed_over() == {("platform", "student"): "3:42"}
    assert whole.handed_over() == {}  # taken once: a second exports step computes its own
