"""The job model: the state machine's moves and the progress meter's throughput and ETA."""

from __future__ import annotations

import pytest

from strongroom.core.jobs import JobState, ProgressMeter
from strongroom.core.job_state import BadTransition, check_transition


def test_only_the_documented_moves_are_allowed() -> None:
    for current, new in [(JobState.QUEUED, JobState.WAITING), (JobState.WAITING, JobState.RUNNING),
                         (JobState.RUNNING, JobState.WARNINGS), (JobState.WAITING, JobState.CANCELLED),
                         (JobState.RUNNING, JobState.WAITING)]:
        check_transition(current, new)
    for current, new in [(JobState.SUCCEEDED, JobState.RUNNING), (JobState.FAILED, JobState.SUCCEEDED),
                         (JobState.QUEUED, JobState.SUCCEEDED), (JobState.CANCELLED, JobState.QUEUED)]:
        with pytest.raises(BadTransition):
            check_transition(current, new)
    assert JobState.WAITING.label == "waiting for mutex"
    assert all(state.terminal for state in (JobState.SUCCEEDED, JobState.WARNINGS, JobState.FAILED,
                                            JobState.CANCELLED))


def test_progress_reports_throughput_and_eta_at_a_bounded_rate() -> None:
    now = [100.0]
    reports = []
    meter = ProgressMeter(reports.append, clock=lambda: now[0])
    meter.set_totals(files=4, size=1000)
    for _ in range(10):
        now[0] += 0.05
        meter.advance(50, files=0, path="a")
    meter.advance(0, files=1, path="b")
    assert 4 <= len(reports) <= 7  # forced first report, then at most one per 0.1 s
    final = meter.finish()
    assert final.bytes_done == 500 and final.files_done == 1 and final.current_path == "b"
    assert final.throughput == pytest.approx(1000, rel=0.01)  # 500 bytes in 0.5 s
    assert final.eta == pytest.approx(0.5, rel=0.05)
    assert final.fraction == 0.5


@pytest.mark.parametrize("missing_store", [False, True])
def test_when_a_jobs_end_is_announced_its_history_row_is_complete_and_saved(engine, tmp_path, missing_store) -> None:
    """A view, or the console mirroring a job process, reads the row as soon as it hears the final state."""
    from strongroom.core.jobs import JobListener

    from .trees import make_tree

    source = make_tree(tmp_path / "docs", {"a": "1"})
    engine.add_store("docs", "folder", str(source))
    if missing_store:
        (source / "a").unlink()
        source.rmdir()
    heard = []

    class AtTheEnd(JobListener):
        def job_state(self, job, state) -> None:
            if state.terminal:
                heard.append((job.record.state, job.record.finished, job.record.error, job.record.log,
                              engine.catalog.get_job(job.id)))

    job = engine.backup_job("docs")
    job.add_listener(AtTheEnd())
    final = job.run()
    assert final == (JobState.FAILED if missing_store else JobState.SUCCEEDED)
    [(state, finished, error, log, saved)] = heard
    assert state == final.value and finished is not None and error == job.error and log == job.stamped_log()
    assert (saved.state, saved.finished, saved.error, saved.log) == (state, finished, error, log)
