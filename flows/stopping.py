"""Stopping safely: signals, a bounded exit, and children that never outlive newsdesk.

`newsdesk run` and `newsdesk serve` start other processes: the NLP pool workers (and
multiprocessing's resource tracker), Prefect's in-process API server, and under `serve`
one flow-run process per run. Three mechanisms keep them from being left behind:

- SIGINT and SIGTERM raise `Stopped` in the main thread (Prefect's own SIGTERM bridge
  raises `TerminationSignal` during a flow run); the flow turns either into a final
  Cancelled state with the reason. A second signal, or a stop that takes longer than
  `EXIT_WITHIN_S`, kills every descendant and exits at once.
- `start_lifeline()` starts a small watcher process holding the read end of a pipe: when
  newsdesk dies in any way (SIGKILL, the OOM killer), the kernel closes the pipe and the
  watcher kills the processes newsdesk had started, then exits.
- Pool workers watch their parent themselves (`watch_parent`): a worker whose parent is
  gone exits within a second, even while blocked sending a result nobody will read.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import NoReturn

log = logging.getLogger(__name__)

# A stop ends within this many seconds of the first signal (the command exits by then); a served
# flow-run process, which `newsdesk serve` waits for, sooner.
EXIT_WITHIN_S = 7.0
CHILD_EXIT_WITHIN_S = 4.0
WATCH_EVERY_S = 0.5
_STOPPING = threading.Event()
_REASON: list[str] = []
_STAGE: list[str] = []
_FORCE: list[Callable[[str], None]] = []  # what a second signal, or the deadline, does
_LIFELINE: list[subprocess.Popen[bytes]] = []
_LIFELINE_FDS: list[int] = []  # the pipe's write end, open for the life of this process
LIFELINE_EVERY_S = 1.0


class Stopped(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: the run is being stopped (a KeyboardInterrupt, so nothing swallows it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def stop_reason(exc: BaseException) -> str:
    """Which signal `exc` stands for: SIGINT, SIGTERM (Prefect's TerminationSignal carries it)."""
    signum = getattr(exc, "signum", None) or getattr(exc, "signal", None)
    if isinstance(signum, int):
        return signal_name(signum)
    return "SIGINT" if isinstance(exc, KeyboardInterrupt) else type(exc).__name__


def exit_code(reason: str) -> int:
    """The shell's convention for a command ended by a signal: 128 + its number (130 for SIGINT)."""
    try:
        return 128 + int(signal.Signals[reason])
    except KeyError:
        return 130


# --- processes -------------------------------------------------------------------------


def descendants(pid: int) -> list[int]:
    """The processes below `pid` (children first), read from /proc; empty where there is none."""
    parents: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


def kill_all(pids: list[int], sig: int = signal.SIGKILL) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _flush_logs(timeout_s: float = 1.0) -> None:
    """Send the run's buffered log lines to the Prefect API before leaving (best effort)."""
    if "prefect.logging.handlers" not in sys.modules:
        return
    from prefect.logging.handlers import APILogWorker

    try:
        APILogWorker.drain_all(timeout=timeout_s)
    except Exception:  # noqa: BLE001 - the exit must happen whatever the API does
        pass


def leave(code: int) -> NoReturn:
    """End a stopped command now: send the buffered logs, end every child, exit with `code`.

    Skips the interpreter's exit handlers, which wait for threads still parsing a batch
    and give Prefect's in-process API server seconds to shut down.
    """
    _flush_logs()
    kill_all(descendants(os.getpid()), signal.SIGTERM)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def force_exit(reason: str) -> NoReturn:
    """Kill every descendant and leave now (the second signal, or a stop that overran)."""
    _flush_logs()

    kill_all(descendants(os.getpid()))
    try:
        sys.stderr.write(f"newsdesk: stopped by {reason} (forced)\n")
        sys.stderr.flush()
    finally:
        os._exit(exit_code(reason))


# --- signals ---------------------------------------------------------------------------


def _on_signal(signum: int, frame: FrameType | None) -> None:
    if _STOPPING.is_set():
        (_FORCE[0] if _FORCE else force_exit)(signal_name(signum))
    raise Stopped(signum)


def install_handlers() -> None:
    """SIGINT and SIGTERM raise `Stopped` (the second one forces the exit). Main thread only."""
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)


def leave_sigint_to_supervisor() -> None:
    """In a served flow-run process: ignore Ctrl-C, which `newsdesk serve` turns into a cancellation."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def begin_stop(reason: str, on_overrun: Callable[[str], None] = force_exit, within_s: float = EXIT_WITHIN_S) -> bool:
    """Mark the process as stopping; the first call arms the deadline and returns True.

    After this, any further SIGINT or SIGTERM forces the exit (`on_overrun`), and so does
    the deadline `within_s` (threads still parsing a batch cannot be interrupted in Python).
    """
    if _STOPPING.is_set():
        return False
    _STOPPING.set()
    _REASON.append(reason)
    _FORCE.append(on_overrun)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, _on_signal)
    timer = threading.Timer(within_s, on_overrun, (reason,))
    timer.daemon = True
    timer.start()
    return True


def at_stage(where: str) -> None:
    """Say what the run is doing, for the message of a stop ('while loading the warehouse ...')."""
    _STAGE[:] = [where]


def stage() -> str:
    return _STAGE[0] if _STAGE else "starting"


def stopping() -> str | None:
    """The reason of a stop under way (e.g. 'SIGTERM'), or None."""
    return _REASON[0] if _REASON else None


# --- children that outlive a killed parent ---------------------------------------------


def watch_parent(every_s: float = WATCH_EVERY_S) -> None:
    """In a child process: exit as soon as the parent that started it is gone."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_s)
        os._exit(1)

    threading.Thread(target=watch, name="newsdesk-parent-watch", daemon=True).start()


def start_lifeline() -> None:
    """Start the watcher that kills this process's descendants if this process is killed outright."""
    if _LIFELINE or not os.path.isdir("/proc"):
        return
    read_end, write_end = os.pipe()
    proc = subprocess.Popen([sys.executable, "-m", "flows.stopping", str(os.getpid()), str(read_end)],
                            pass_fds=(read_end,), stdin=subprocess.DEVNULL, start_new_session=True)
    os.close(read_end)
    _LIFELINE.append(proc)
    _LIFELINE_FDS.append(write_end)  # never written, never inherited: closed only when this process ends


def _lifeline(parent: int, read_end: int) -> None:
    """The watcher's loop: remember the parent's descendants; when the pipe closes, kill them."""
    import selectors

    me = os.getpid()
    known: list[int] = []
    with selectors.DefaultSelector() as selector:
        selector.register(read_end, selectors.EVENT_READ)
        while True:
            if selector.select(timeout=LIFELINE_EVERY_S):  # readable = EOF: the parent is gone
                break
            known = [pid for pid in descendants(parent) if pid != me]
    still = [pid for pid in known if alive(pid)]
    below = [child for pid in still for child in descendants(pid)]
    if not still:
        return
    kill_all(still + below, signal.SIGTERM)
    time.sleep(2.0)
    kill_all([pid for pid in still + below if alive(pid)])


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C to the terminal is for newsdesk, not the watcher
    _lifeline(int(sys.argv[1]), int(sys.argv[2]))
