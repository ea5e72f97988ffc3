"""`python -m pipelines.cli` is `statedata`."""

from pipelines.cli import main

main(prog_name="statedata")
