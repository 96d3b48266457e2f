"""Work beside the run: a forked process on the run's second core where the system has fork, the same
work in the run's own process elsewhere.

A run is Python's work (pandas, numpy's per-group sums, matplotlib), which Python's lock keeps to one
core however many threads share it. A process forked from the run sees the run's tables as they are,
without copying them (the system shares their memory until one side writes to it), and sends back only
what it made, pickled. That pays where the work is long and its result small: the kernel's passes by
stratifier, the report's charts and pages. Not for a national survey's table, whose run would then pass
the memory a laptop can give it (:data:`LARGE_TABLE_CELLS`).
"""

from __future__ import annotations

import os
import pickle
import sys
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Self

# a child table of this many cells or more (a national survey's: 10^6 children, 400 columns) keeps its work
# in the run's process: a forked process's own pages (what it makes, and the run's pages that the run
# writes meanwhile, which the system then copies) took the 10^6 run from 3.85 GB to 4.2-4.3 GB, past the
# 4 GB a laptop can give it, for 80 s instead of 93 s
LARGE_TABLE_CELLS = 100_000_000


def fork_available(cells: int = 0) -> bool:
    """Whether work over a child table of ``cells`` cells is made in a forked process. It pays only with a
    second core, is safe only where the process shares the run's memory as it is (Linux: macOS's system
    libraries refuse to run in a forked process, Windows cannot fork), and is not made for a national
    table (:data:`LARGE_TABLE_CELLS`). ``LQAS_PROCESSES=1`` keeps all the work in the run's process."""
    import multiprocessing

    return (cells < LARGE_TABLE_CELLS and sys.platform.startswith("linux")
            and "fork" in multiprocessing.get_all_start_methods() and (os.cpu_count() or 1) > 1
            and os.environ.get("LQAS_PROCESSES", "") != "1")


class Beside:
    """``function(*args)`` made in a forked process while the caller goes on, or here and now where the
    system cannot fork or the child table is a national one (``cells``: its size; :func:`fork_available`).

    ``on_message``: ``function`` is then given ``tell=`` a callable whose values reach ``on_message``,
    in a thread of this process, as they are told (the report tells its PDF's source, typeset here while
    it makes its HTML page). The forked process ignores Ctrl-C: the run handles it and :meth:`cancel`s.
    As a context manager, it is cancelled if its result was not taken (the block raised); a forked
    process may make work beside it in turn (the report's process, the organ-pipe plots).

    ``background``: the forked process gives way to the run's own (``os.nice``): work that nothing waits
    for before the run's end (a table to write), which then takes the cores the run leaves idle rather
    than slowing the stages that everything after them waits for.
    ``later``: where it does not fork, the work is done when its result is asked for, not at once (the
    command line's ingest, which then runs under the run's own progress, after its refusals).
    ``thread``: where it does not fork, the work is done in a thread of this process meanwhile (work
    whose libraries often let go of Python's lock: a national table's fieldwork checks beside its
    estimates, with no second copy of the memory it reads); its error reaches the caller when the
    result is asked for, and a cancelled thread ends its work before the process exits. Such work must
    not set warning filters (``warnings.catch_warnings``): they are the process's, and two threads
    entering and leaving them restore each other's.

    The function must be deterministic and have no effect on this process's objects: if the forked
    process fails or dies (killed for memory), the same work is done here when the result is asked for,
    so that its error reaches the user as it always has, or its result is still made. The warnings it
    gives (a BeSD answer with an unknown code) are given again here, as if the work had been done here.
    """

    def __init__(self, function: Callable[..., Any], *args: Any,
                 on_message: Callable[[Any], None] | None = None, cells: int = 0, later: bool = False,
                 thread: bool = False, background: bool = False):
        self._function, self._args, self._on_message = function, args, on_message
        self._process = None
        self._pending = False
        self._thread: Future | None = None
        if not fork_available(cells):
            if later:
                self._pending = True
            elif thread:
                runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lqas-beside")
                self._thread = runner.submit(self._run_here)
                runner.shutdown(wait=False)  # the thread ends with its work
            else:
                self._value = self._run_here()
            return
        import multiprocessing

        context = multiprocessing.get_context("fork")
        receiver, sender = context.Pipe(duplex=False)
        self._shared = _SharedFile.made()
        self._process = context.Process(target=_child, args=(sender, function, args, on_message is not None, background,
                                                             self._shared),
                                        name=f"lqas-{getattr(function, '__name__', 'work').strip('_')}")
        self._process.start()
        sender.close()
        self._receiver = receiver
        self._listener = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lqas-beside")
        self._received: Future = self._listener.submit(self._receive)

    @property
    def forked(self) -> bool:
        """Whether the work is being made in a forked process."""
        return self._process is not None

    @property
    def finished(self) -> bool:
        """Whether the work has ended: its forked process has sent its result or died (where it does not
        fork: always, but for ``later`` and ``thread`` work, whose end :meth:`result` waits for)."""
        return self._process is None or self._received.done()

    def _receive(self) -> tuple[str, Any, list]:
        try:
            while True:
                kind, value, *given = self._receiver.recv()
                if kind != "message":
                    return kind, value, given[0] if given else []
                self._on_message(value)
        except (EOFError, OSError):  # the process died, or was stopped
            return "died", None, []
        finally:
            self._receiver.close()

    def result(self) -> Any:
        """What ``function(*args)`` returned."""
        if self._pending:
            self._pending = False
            self._value = self._run_here()
        if self._thread is not None:
            self._value, self._thread = self._thread.result(), None
        if self._process is None:
            return self._value
        with self._listener:
            kind, value, given = self._received.result()
        self._process.join()
        self._process = None
        if kind == "value":
            try:
                value = self._shared.value(*value)
            except Exception:  # noqa: BLE001 (what came back cannot be read: the work is made here, as when it died)
                kind = "failed"
        self._shared.close()
        if kind == "value":
            for warning in given:
                warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
            self._value = value
        else:
            self._value = self._run_here()
        return self._value

    def _run_here(self) -> Any:
        if self._on_message is None:
            return self._function(*self._args)
        return self._function(*self._args, tell=self._on_message)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.cancel()

    def cancel(self) -> None:
        """Stop the forked process, its work thrown away (the run failed or was interrupted); nothing
        once its result was taken."""
        if self._process is not None:
            self._process.terminate()
            self._process.join()
            with self._listener:
                self._received.result()
            self._process, self._value = None, None
            self._shared.close()
        if self._thread is not None:
            self._thread.cancel()
            self._thread, self._value = None, None
        self._pending = False


@dataclass(frozen=True)
class _Given:
    """A warning given in the forked process, sent to be given again in the run's (Python's own record
    holds its source line, which need not pickle)."""

    message: Warning | str
    category: type[Warning]
    filename: str
    lineno: int


# buffers of a forked process's value this large or larger (a child table's columns: 400 kB each at 10^5
# children) come back through a shared file, not the pipe (_SharedFile)
SHARED_BYTES = 1 << 16
# where each buffer starts in the shared file: a multiple of this, so that every column is aligned as numpy
# aligns its own (an unaligned array is slower to read, and some operations copy it first)
_ALIGNMENT = 64


class _SharedFile:
    """The value a forked process made, sent back without copying its large buffers through the pipe.

    The value is pickled with its buffers of :data:`SHARED_BYTES` or more out of band (Python's pickle
    protocol 5): the forked process writes them into a file in memory (``memfd_create``) made by the run
    before forking, and sends the rest, and where each buffer lies, through the pipe. The run maps the
    file (copy-on-write) and the value's arrays are those pages, shared, not copied: a 10^5-child table
    (175 MB pickled) came back in 0.06 s instead of 0.4 s through the pipe. Where the system has no such
    file, the whole value goes through the pipe."""

    def __init__(self, descriptor: int | None):
        self.descriptor = descriptor

    @classmethod
    def made(cls) -> _SharedFile:
        try:
            return cls(os.memfd_create("lqas-beside", os.MFD_CLOEXEC))
        except (AttributeError, OSError):
            return cls(None)

    def put(self, value: Any) -> tuple[bytes, list[tuple[int, int]]]:
        """``value`` pickled, its large buffers written into the file: the pickle and each buffer's place."""
        large: list[pickle.PickleBuffer] = []

        def out_of_band(buffer: pickle.PickleBuffer) -> bool:
            if self.descriptor is None or buffer.raw().nbytes < SHARED_BYTES:
                return True  # in the pickle
            large.append(buffer)
            return False

        head = pickle.dumps(value, protocol=5, buffer_callback=out_of_band)
        places, end = [], 0
        if not large:
            return head, places
        with open(self.descriptor, "wb", closefd=False) as file:
            for buffer in large:
                raw = buffer.raw()
                start = -(-end // _ALIGNMENT) * _ALIGNMENT
                file.seek(start)
                file.write(raw)
                places.append((start, raw.nbytes))
                end = start + raw.nbytes
        return head, places

    def value(self, head: bytes, places: list[tuple[int, int]]) -> Any:
        """The value :meth:`put` sent: its buffers are the mapped file's pages."""
        if not places:
            return pickle.loads(head)
        import mmap

        size = max(start + length for start, length in places)
        pages = memoryview(mmap.mmap(self.descriptor, size, flags=mmap.MAP_PRIVATE,
                                     prot=mmap.PROT_READ | mmap.PROT_WRITE))
        return pickle.loads(head, buffers=[pages[start:start + length] for start, length in places])

    def close(self) -> None:
        """The file's name in this process let go (its pages stay while the value's arrays are mapped)."""
        if self.descriptor is not None:
            os.close(self.descriptor)
            self.descriptor = None


# how much less the system favours a forked process made with ``background=True`` (os.nice)
BACKGROUND_NICENESS = 10


def give_way() -> None:
    """This process favoured less by the system from now on (:data:`BACKGROUND_NICENESS`), where it can be
    (a system without ``os.nice``, or refusing it, leaves it as it is: only the speed differs)."""
    try:
        os.nice(BACKGROUND_NICENESS)
    except (AttributeError, OSError):
        pass


def _child(sender, function: Callable[..., Any], args: tuple, tells: bool, background: bool = False,
           shared: _SharedFile | None = None) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle: it stops this process
    if background:
        give_way()
    try:
        with warnings.catch_warnings(record=True) as given:  # the filters as the run has them
            if tells:
                value = function(*args, tell=lambda message: sender.send(("message", message)))
            else:
                value = function(*args)
        sent = shared.put(value) if shared is not None else (pickle.dumps(value, protocol=5), [])
        sender.send(("value", sent, [_Given(w.message, w.category, w.filename, w.lineno) for w in given]))
    except BaseException:  # noqa: BLE001 (the run does the same work again and raises it as its own)
        try:
            sender.send(("failed", None))
        except OSError:  # the run has stopped listening
            pass
    finally:
        sender.close()
