"""Run one command and write its wall clock, CPU time and peak RSS, from a process small enough not to count.

    python -I -S benchmarks/launch.py REPORT_FILE COMMAND [ARG ...]

Linux carries a process's peak resident memory (ru_maxrss) over fork and exec: a child starts with the high-water
mark of the process that forked it. Forked by the harness (which holds its modules, ~100 MB once DuckDB or pandas
is imported), `python -c pass` would report the harness's memory; forked by this launcher (run with `-I -S`, it
imports nothing beyond the interpreter's built-ins, a few MB), a command reports its own. The wall clock runs from
just before the fork to the child's exit, so the launcher's own start-up is not counted either.

The figures go to REPORT_FILE as one JSON object (written by hand: importing `json` would grow this process); the
command's stdout and stderr are this process's; the exit status is the command's.
"""

import os
import sys
import time


def main() -> int:
    report, command = sys.argv[1], sys.argv[2:]
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(command[0], command)
        except OSError as exc:
            os.write(2, f"cannot run {command[0]}: {exc}\n".encode())
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    with open(report, "w", encoding="ascii") as handle:
        handle.write(
            f'{{"seconds": {seconds!r}, "cpu_seconds": {usage.ru_utime + usage.ru_stime!r}, '
            f'"peak_rss_bytes": {usage.ru_maxrss * 1024}, "exit": {code}}}'
        )
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
