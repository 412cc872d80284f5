"""Keep the broker's JVM from outliving the Python process that started it.

This file is run as a script (``python _reaper.py --cleanup DIR -- java ...``), never imported by
streamer itself. It starts the command as its child and then watches its own stdin, which is a pipe
whose write end only the starting Python process holds. When that process ends in any way (normal
exit, an exception, ``kill -9``, a CI timeout), the kernel closes the pipe, the reaper reads EOF,
stops the JVM (SIGTERM, then SIGKILL after a grace period) and removes the broker's data directory.

``atexit`` alone would not do: it does not run on SIGKILL or on an unhandled SIGTERM.
``PR_SET_PDEATHSIG`` would not do either: it fires when the *thread* that forked exits, so a broker
started from a worker thread would die with that thread.

Signals: the starting process stops the broker with ``killpg(SIGTERM)`` on the whole process group
(reaper and JVM). The reaper catches SIGTERM with a no-op handler and waits for the JVM, so that its
exit status is the JVM's. (A handler, not SIG_IGN: an ignored signal stays ignored across exec, and
a JVM that finds SIGTERM ignored installs no shutdown hook for it.)

Deliberately imports nothing from streamer: it must start fast and must not import the package.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys

_GRACE_SECONDS = 10.0
_POLL_SECONDS = 0.2


def _parse(argv: list[str]) -> tuple[str | None, list[str]]:
    cleanup: str | None = None
    index = 0
    while index < len(argv) and argv[index] != "--":
        if argv[index] == "--cleanup":
            cleanup = argv[index + 1]
            index += 2
        else:
            raise SystemExit(f"reaper: unknown argument {argv[index]!r}")
    command = argv[index + 1 :]
    if not command:
        raise SystemExit("usage: _reaper.py [--cleanup DIR] -- COMMAND...")
    return cleanup, command


def _exit_status(returncode: int) -> int:
    # Popen reports death by signal N as -N; a shell would say 128+N.
    return 128 - returncode if returncode < 0 else returncode


def main(argv: list[str]) -> int:
    cleanup, command = _parse(argv)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: None)
    signal.signal(signal.SIGINT, lambda _signum, _frame: None)
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    stdin_fd = sys.stdin.fileno()
    while True:
        readable, _, _ = select.select([stdin_fd], [], [], _POLL_SECONDS)
        if readable and not os.read(stdin_fd, 4096):
            break  # the starting process is gone
        returncode = child.poll()
        if returncode is not None:
            return _exit_status(returncode)
    child.terminate()
    try:
        child.wait(_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    if cleanup:
        shutil.rmtree(cleanup, ignore_errors=True)
    return _exit_status(child.returncode)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
