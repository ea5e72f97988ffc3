"""A Dagster logger that prints one line per finished asset: what the CLI shows as progress."""

import logging
import sys
import time

import dagster as dg


def step_error(data) -> str:
    """What went wrong in a failed step: a dg.Failure's description, else the innermost exception."""
    failure = getattr(data, "user_failure_data", None)  # step failures have it; retry requests do not
    if failure is not None and failure.description:
        return failure.description
    error = data.error
    while error is not None and error.cause is not None:
        error = error.cause
    if error is None:
        return "unknown error"
    message = error.message.strip()
    if error.cls_name == "Failure":  # our own dg.Failure: its description is the message
        message = message.split(": ", 1)[-1]
    return message


class _ProgressHandler(logging.Handler):
    def __init__(self, stream):
        super().__init__()
        self.stream = stream
        self.t0 = time.perf_counter()
        self.done = 0

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_meta", {}).get("dagster_event")
        if event is None:
            if record.levelno >= logging.WARNING:
                print(f"  ! {record.getMessage()}", file=self.stream, flush=True)
            return
        kind = event.event_type_value
        elapsed = time.perf_counter() - self.t0
        if kind == "ASSET_MATERIALIZATION":
            self.done += 1
            mat = event.event_specific_data.materialization
            rows = mat.metadata.get("dagster/row_count")
            rows_s = f"{rows.value:>9,} rows" if rows is not None else ""
            if "kept" in mat.metadata:  # not built again: its inputs are as at its last build
                rows_s += "  kept"
            print(
                f"  [{elapsed:6.1f}s] {self.done:3d} ✓ {mat.asset_key.to_user_string():<45} {rows_s}",
                file=self.stream,
                flush=True,
            )
        elif kind == "ASSET_CHECK_EVALUATION":
            ev = event.event_specific_data
            if not ev.passed:
                sev = ev.severity.value if ev.severity else "ERROR"
                print(
                    f"  [{elapsed:6.1f}s]     {sev:<5} check {ev.check_name} on {ev.asset_key.to_user_string()}",
                    file=self.stream,
                    flush=True,
                )
        elif kind == "STEP_UP_FOR_RETRY":
            print(
                f"  [{elapsed:6.1f}s]   ↻ {event.step_key}: retrying ({step_error(event.event_specific_data)})",
                file=self.stream,
                flush=True,
            )
        elif kind == "STEP_FAILURE":  # the cause, not Dagster's wrapper around it
            print(
                f"  [{elapsed:6.1f}s]   ✗ {event.step_key}: {step_error(event.event_specific_data)}",
                file=self.stream,
                flush=True,
            )


@dg.logger(
    config_schema={"quiet": dg.Field(bool, default_value=False)},
    description="One line per materialized asset and failed check, on stderr (nothing with quiet: true).",
)
def progress_logger(init_context) -> logging.Logger:
    log = logging.Logger("statedata.progress", level=logging.DEBUG)
    if init_context.logger_config["quiet"]:  # configured, so Dagster's own console logger stays off too
        log.addHandler(logging.NullHandler())
    else:
        log.addHandler(_ProgressHandler(sys.stderr))
    return log
