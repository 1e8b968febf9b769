"""What a stage records besides its time (`oligo_cohort/progress.py`): the kernel's part of its CPU time and the
bytes the process wrote during it.

`make bench` shows both per stage: at a million patients the stages write several times the outputs' size, as
DuckDB spills past its memory limit, and a fifth of the CPU time goes to the kernel (docs/performance.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from oligo_cohort.progress import RunProgress, bytes_written_so_far

needs_proc_io = pytest.mark.skipif(bytes_written_so_far() is None, reason="the system does not report bytes written")


def _write(path: Path, size: int) -> None:
    with open(path, "wb") as handle:
        handle.write(os.urandom(size))


@needs_proc_io
def test_a_stage_counts_the_bytes_written_during_it_and_no_others(tmp_path: Path) -> None:
    progress = RunProgress(quiet=True)
    _write(tmp_path / "before", 1_000_000)
    with progress.stage("outer"):
        _write(tmp_path / "outer", 2_000_000)
        with progress.stage("inner"):
            _write(tmp_path / "inner", 3_000_000)
    _write(tmp_path / "after", 1_000_000)
    inner, outer = progress.stages
    assert inner.written_bytes is not None and outer.written_bytes is not None
    assert 3_000_000 <= inner.written_bytes < 3_500_000
    assert 5_000_000 <= outer.written_bytes < 5_500_000


def test_a_stage_keeps_the_kernels_part_of_its_cpu_time_apart(tmp_path: Path) -> None:
    progress = RunProgress(quiet=True)
    with progress.stage("writing"):
        for n in range(20):
            _write(tmp_path / f"part-{n}", 500_000)
    (stage,) = progress.stages
    assert 0.0 <= stage.system_seconds <= stage.cpu_seconds + 0.02  # os.times counts in ticks of 10 ms
