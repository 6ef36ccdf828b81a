"""`make run`: generate the synthetic census if needed, then materialise every asset for every year.

Runs go into the Dagster instance under ``$DAGSTER_HOME`` (SQLite by default), so the UI shows them
afterwards. Each reporting year is one run of the ``reporting_year_job``, two years at a time (a year's
look-back reads the previous year's returns, not its run's output; only a year that carries an LA forward
waits for the previous year's run); the release-level assets (published files, data guidance,
ZIP) follow in one ``release_job`` run.

Ctrl-C or SIGTERM stops everything within seconds: each year's worker runs in its own process group, so one
signal reaches it and every process it started; its run is marked failed by Dagster, and any run still
unfinished after a grace period is marked canceled here. Runs left STARTED by a ``cin-run`` that was killed
outright (SIGKILL, power loss) are marked failed by the next ``cin-run`` on the same machine.
"""

import argparse
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from types import FrameType

import dagster as dg
import polars as pl

from cin_assets.census.reader import census_files
from cin_assets.disclosure.config import RULE_ENV, RULES, disclosure_config
from cin_assets.publish.profile import PROFILES, get_profile


def parse_years(text: str) -> list[int]:
    """``2013-2020`` or ``2019,2020`` or ``2020``."""
    years: list[int] = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        years.extend(range(int(first), int(last or first) + 1))
    return sorted(set(years))


def ensure_census(root: Path, years: list[int], scale: float, seed: int) -> None:
    """Generate the synthetic census for the years that have no returns yet."""
    missing = [y for y in years if not census_files(root / "census", y)]
    if not missing:
        print(f"census returns found under {root / 'census'} for {years[0]}-{years[-1]}")
        return
    from cin_assets.synth import generate_census
    from cin_assets.synth.generate import declare_exceptions

    print(f"generating the synthetic census (scale {scale}, seed {seed}) for {years[0]}-{years[-1]} ...")
    start = time.perf_counter()
    generate_census(root / "census", years=years, scale=scale, seed=seed)
    # like the real census, it has no return from Hackney 2021-2022 and Hampshire 2024: declared as DfE did
    print(f"  declared exceptions in {declare_exceptions(root, years)}")
    print(f"  done in {time.perf_counter() - start:.0f} s")


# Progress is printed by this script; Dagster's own console shows warnings and errors only (every event is
# still in the instance, for the UI).
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


SESSION_TAG, PID_TAG, HOST_TAG = "cin_run/session", "cin_run/pid", "cin_run/host"
GRACE_SECONDS = 6.0  # after Ctrl-C/SIGTERM, how long runs get to end themselves before being killed
_UNFINISHED = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


def _run_tags(session: str) -> dict[str, str]:
    return {SESSION_TAG: session, PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _stop_children(signal_number: int = signal.SIGTERM) -> None:
    """Signal every child process: a year worker with its process group (the processes it started too)."""
    for child in multiprocessing.active_children():
        pid = child.pid
        if pid is None:  # not started yet: nothing to signal
            continue
        try:
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal_number)
            else:
                os.kill(pid, signal_number)
        except ProcessLookupError:
            pass


_SIGNALS: list[str] = []  # the signals this process received


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """Stop this process's children, then interrupt the run here (Dagster marks an interrupted run failed)."""
    if _SIGNALS:
        return  # already stopping
    _SIGNALS.append(signal.Signals(signum).name)
    _stop_children()
    raise KeyboardInterrupt(_SIGNALS[0])


_PARENT_GONE = threading.Event()  # set in a worker once cin-run has died


def _watch_parent() -> None:
    """End this worker and its process group once cin-run is gone, even killed by SIGKILL: SIGTERM first
    (the worker then ends its run and exits), SIGKILL after the grace period."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        _PARENT_GONE.set()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            os.killpg(os.getpgrp(), sig)
            time.sleep(GRACE_SECONDS)

    threading.Thread(target=watch, name="cin-run-parent-watch", daemon=True).start()


def _worker_init() -> None:
    """A year worker leads its own process group; SIGTERM (from cin-run, or when cin-run is gone)
    interrupts its run."""
    os.setpgrp()
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    _watch_parent()


def _end_runs(instance: dg.DagsterInstance, tags: Mapping[str, str], message: str, canceled: bool) -> int:
    """Mark the unfinished runs with ``tags`` canceled (or failed); returns how many."""
    runs = instance.get_runs(dg.RunsFilter(tags=dict(tags), statuses=_UNFINISHED))
    for run in runs:
        if canceled:
            instance.report_run_canceled(run, message=message)
        else:
            instance.report_run_failed(run, message=message)
    return len(runs)


def fail_orphaned_runs(instance: dg.DagsterInstance) -> int:
    """Runs of an earlier ``cin-run`` on this machine whose process is gone are failed, not left STARTED."""
    host, ended = socket.gethostname(), 0
    for run in instance.get_runs(dg.RunsFilter(tags={HOST_TAG: host}, statuses=_UNFINISHED)):
        pid = int(run.tags.get(PID_TAG, "0"))
        try:
            if pid:
                os.kill(pid, 0)
                continue
        except ProcessLookupError:
            pass
        except PermissionError:  # a live process of another user
            continue
        instance.report_run_failed(
            run, message=f"cin-run process {pid} on {host} ended without finishing this run"
        )
        ended += 1
    return ended


def run_year(year: int, tags: Mapping[str, str]) -> tuple[bool, str, float, list[str]]:
    """One reporting year's run (in a worker process)."""
    from cin_assets.definitions import defs

    try:
        instance = dg.DagsterInstance.get()
        start = time.perf_counter()
        result = defs.resolve_job_def("reporting_year_job").execute_in_process(
            partition_key=str(year),
            instance=instance,
            raise_on_error=False,
            run_config=QUIET,
            tags=dict(tags),
        )
    finally:
        # interrupted (Dagster has recorded the run's end) or orphaned: this worker takes no other year
        if _SIGNALS or _PARENT_GONE.is_set():
            os._exit(128 + signal.SIGTERM)
    return result.success, result.run_id, time.perf_counter() - start, failed_checks(result)


def failed_checks(result: dg.ExecuteInProcessResult) -> list[str]:
    """``asset:check (SEVERITY)`` for every check of the run that failed, in a stable order."""
    return sorted(
        f"{e.asset_key.to_user_string()}:{e.check_name} ({e.severity.value})"
        for e in result.get_asset_check_evaluations()
        if not e.passed
    )


def step_failures(result: dg.ExecuteInProcessResult) -> list[str]:
    """Why each failed step failed, as the UI shows it: e.g. the release refusing a year that carries an LA
    forward from a year rerun since (the console would otherwise only say FAILED)."""
    reasons = []
    for event in result.all_events:
        if event.is_step_failure:
            data = event.step_failure_data
            error = (data.error.cause or data.error) if data.error else None
            described = data.user_failure_data.description if data.user_failure_data else None
            reasons.append(f"{event.step_key}: {described or (error.message.strip() if error else 'failed')}")
    return sorted(reasons)


def _outcome(ok: bool, checks: list[str]) -> str:
    if not ok:
        return "FAILED"
    return f"ok, {len(checks)} failed check(s)" if checks else "ok"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--years", default=os.environ.get("YEARS", "2013-2020"))
    parser.add_argument("--scale", type=float, default=float(os.environ.get("SCALE", "0.1")))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("SEED", "1")))
    parser.add_argument(
        "--parallel",
        type=int,
        default=int(os.environ.get("CIN_RUN_PARALLEL", "2")),
        help="reporting years materialised at once (default 2: disclosure control is single-threaded)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("CIN_DATA_DIR") or "data"),
        help="the data root (default $CIN_DATA_DIR, else ./data): census/ in, staging/ and published/ out",
    )
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default=get_profile().name,
        help="layout of the published files (default $CIN_PROFILE or $PROFILE, else ees)",
    )
    parser.add_argument(
        "--suppression",
        choices=RULES,
        default=disclosure_config().rule,
        help="secondary-suppression rule: dfe (nothing recoverable exactly) or strict (nor provably below 6); "
        "default $CIN_SUPPRESSION, else dfe",
    )
    args = parser.parse_args(argv)
    # the suppression_rule resource reads $CIN_SUPPRESSION when each run starts: the years and the release
    os.environ[RULE_ENV] = args.suppression
    root = args.data_dir.resolve()
    # the code location's resources read the data root from $CIN_DATA_DIR when each run starts (dg.EnvVar),
    # in this process and in the year workers it spawns
    os.environ["CIN_DATA_DIR"] = str(root)
    years = parse_years(args.years)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    instance: dg.DagsterInstance | None = None
    tags = _run_tags(uuid.uuid4().hex)
    try:
        ensure_census(root, years, args.scale, args.seed)

        from cin_assets.definitions import defs

        instance = dg.DagsterInstance.get()
        orphaned = fail_orphaned_runs(instance)
        if orphaned:
            print(f"marked {orphaned} run(s) of an earlier, killed cin-run as failed")
        failed = _run_years(defs, years, args.parallel, tags, carrying_years(root, years))
        print(
            f"release ({args.profile} profile, {args.suppression} suppression): published files, data guidance, ZIP and manifest ...",
            flush=True,
        )
        start = time.perf_counter()
        release = defs.resolve_job_def("release_job").execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={**QUIET, "resources": {"output_profile": {"config": {"name": args.profile}}}},
            tags=tags,
        )
        release_checks = failed_checks(release)
        print(
            f"  {_outcome(release.success, release_checks)} in {time.perf_counter() - start:.1f} s",
            flush=True,
        )
        for line in [*release_checks, *step_failures(release)]:
            print(f"      {line}", flush=True)
    except KeyboardInterrupt:
        return _stop(instance, tags)
    if _SIGNALS:  # interrupted while Dagster ran the release here (it ends the run itself)
        return _stop(instance, tags)
    current = root / "published"
    where = f"{current} -> {current.resolve()}" if current.is_symlink() else "none yet"
    print(f"\ncurrent release: {where} (every release: {root / 'releases'})")
    print(f"Dagster instance: {os.environ.get('DAGSTER_HOME')} (make ui, then http://127.0.0.1:3000)")
    if failed or not release.success:
        print(
            f"failed: {', '.join(sorted(failed) + ([] if release.success else ['release']))}", file=sys.stderr
        )
        return 1
    return 0


def carrying_years(root: Path, years: list[int]) -> set[int]:
    """The years that carry an LA forward (``carry_forward`` in ``<root>/exceptions.csv``): their counting
    basis and measures read the earlier years' inventory and staging, so they wait for the previous year's
    run (a chain of carried years waits year by year)."""
    from cin_assets.census import exceptions

    declared = exceptions.read_file(root / exceptions.FILE_NAME)
    carried = declared.filter(pl.col("action") == exceptions.CARRY_FORWARD)["reporting_year"].to_list()
    return {y for y in years if y in carried and y - 1 in years}


def _run_years(
    defs: dg.Definitions, years: list[int], parallel: int, tags: Mapping[str, str], waiting: set[int]
) -> list[str]:
    """Each year's run in a worker process, ``parallel`` at a time (a year in ``waiting`` starts once the
    previous year's run has ended); prints each year's outcome and the checks that failed; returns the years
    whose run failed."""
    failed: list[str] = []
    print(
        f"materialising {len(years)} reporting years ({min(parallel, len(years))} at a time): "
        "census -> staging -> validation -> measures -> disclosure control ...",
        flush=True,
    )
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=max(1, parallel), mp_context=context, initializer=_worker_init)
    ended: set[int] = set()
    pending = list(years)
    futures: dict[Future, int] = {}
    try:
        while pending or futures:
            ready = [y for y in pending if y not in waiting or y - 1 in ended]
            for year in ready[: max(1, parallel) - len(futures)]:
                pending.remove(year)
                futures[pool.submit(run_year, year, tags)] = year
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=futures.__getitem__):
                year = futures.pop(future)
                ended.add(year)
                ok, run_id, seconds, checks = future.result()
                print(f"  {year}: {_outcome(ok, checks)} in {seconds:.1f} s (run {run_id[:8]})", flush=True)
                for check in checks:
                    print(f"      {check}", flush=True)
                if not ok:
                    failed.append(str(year))
    except KeyboardInterrupt:
        # the workers were signalled: no queued year starts, the running ones get a moment to end
        pool.shutdown(wait=False, cancel_futures=True)
        wait(futures, timeout=GRACE_SECONDS)
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return failed


def _stop(instance: dg.DagsterInstance | None, tags: Mapping[str, str]) -> int:
    """After Ctrl-C/SIGTERM (the workers were signalled at once and had a moment to end their runs): kill
    what is left and mark every run of this cin-run that did not end as canceled. Returns the exit code
    (128 + signal)."""
    reason = _SIGNALS[0] if _SIGNALS else "SIGINT"
    print(f"\n{reason}: stopping the runs ...", file=sys.stderr, flush=True)
    _stop_children(signal.SIGKILL)
    for child in multiprocessing.active_children():
        child.join(2)
    canceled = _end_runs(instance, tags, f"cin-run stopped by {reason}", canceled=True) if instance else 0
    print(f"stopped; {canceled} unfinished run(s) marked canceled", file=sys.stderr, flush=True)
    return 128 + signal.Signals[reason].value


if __name__ == "__main__":
    sys.exit(main())
