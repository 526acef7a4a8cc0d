"""The installed command run as a person runs it: on a terminal, piped, signalled, with odd file names."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ARTICLE = REPO / "seeds" / "002_7d092a4f88c2e314.txt"


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "nkclassify", *args]


def on_a_terminal(args: list[str], cwd: Path, stdin: bytes | None = None) -> tuple[int, str]:
    """Run with standard output and error on a pseudo-terminal; return the exit code and the screen."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # child
        os.chdir(cwd)
        os.execv(args[0], args)
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.parametrize("args", [["tag", str(REPO / "seeds")], ["tag", str(ARTICLE), str(ARTICLE)]])
def test_tag_on_a_terminal_draws_a_table_and_never_a_traceback(args, seed_model, tmp_path):
    code, screen = on_a_terminal(command(*args, "--model", str(seed_model)), tmp_path)
    assert code == 0, screen
    assert "Traceback" not in screen and "share of sentences" in screen


def test_train_on_a_terminal(tiny_corpus, tmp_path):
    code, screen = on_a_terminal(
        command(
            "train", "--labels", str(tiny_corpus), "--out", str(tmp_path / "m.nkmodel"), "--cv-folds", "0"
        ),
        tmp_path,
    )
    assert code == 0 and "Traceback" not in screen, screen


def test_piped_from_another_folder(seed_model, tmp_path):
    out = subprocess.run(
        command("tag", "--model", str(seed_model), "-"),
        input=ARTICLE.read_bytes(),
        capture_output=True,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert rows and all(ARTICLE.read_text()[r["start"] : r["end"]] == r["text"] for r in rows)


def test_odd_file_names_stay_on_one_error_line(seed_model, tmp_path):
    weird = os.fsencode(tmp_path) + b"/bad\xffname\nx.txt"
    with open(weird, "wb") as handle:
        handle.write(b"")
    out = subprocess.run(
        [*command("tag", "--model", str(seed_model), "--out", str(tmp_path / "o.jsonl")), os.fsdecode(weird)],
        capture_output=True,
    )
    assert out.returncode == 3
    lines = out.stderr.decode().splitlines()
    assert lines[0].startswith("error: ") and "\\xff" in lines[0] and "\\n" in lines[0], lines
    assert "Traceback" not in out.stderr.decode()


def test_sigterm_leaves_no_temporary_file(seed_model, tmp_path):
    out = tmp_path / "tags.jsonl"
    process = subprocess.Popen(
        command("tag", "--lines", "--model", str(seed_model), "--out", str(out)),
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdin.write(b"Workers fled.\n" * 5000)
    process.stdin.flush()
    deadline = time.time() + 30
    while not list(tmp_path.glob(".tags.jsonl.*.tmp")) and time.time() < deadline:
        time.sleep(0.05)
    assert list(tmp_path.glob(".tags.jsonl.*.tmp")), "the run never started writing"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 128 + signal.SIGTERM
    assert list(tmp_path.iterdir()) == []


def _group(pgid: int) -> list[str]:
    """The processes (zombies too) left in a process group, as "pid state"."""
    left = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:  # the fields after the command name: state, parent, process group
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                left.append(f"{entry} {fields[0]}")
    return left


def _lines(n: int) -> bytes:
    """Short lines of few words (the engine remembers each word once seen: tagging stays cheap)."""
    return b"".join(b"Workers fled home %d.\n" % (i % 50) for i in range(n))


class _Run:
    """``tag --lines --out NAME`` in a process group of its own, from a file or from a pipe held
    open after ``piped`` (so the run can never finish by itself), and the rows written so far."""

    def __init__(self, folder: Path, model: Path, name: str, jobs=2, source: Path | None = None, piped=b""):
        args = ["tag", "--lines", "-q", "-j", str(jobs), "--model", str(model), "--out", name]
        self.folder, self.name, self.rows, self._seen, self._asleep = folder, name, 0, 0, 0
        self.process = subprocess.Popen(
            command(*args, *([str(source)] if source else [])),
            cwd=folder,
            start_new_session=True,
            stdin=subprocess.DEVNULL if source else subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        if piped:  # from a thread: the run reads only as fast as it tags
            threading.Thread(target=self._feed, args=(piped,), daemon=True).start()

    def _feed(self, data: bytes) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.process.stdin.write(data)
            self.process.stdin.flush()

    def written(self) -> int:
        for path in self.folder.glob(f".{self.name}.*.tmp"):
            try:
                with open(path, "rb") as handle:
                    handle.seek(self._seen)
                    data = handle.read()
            except OSError:
                continue
            self._seen += len(data)
            self.rows += data.count(b"\n")
        return self.rows

    def wait_for(self, rows: int) -> None:
        deadline = time.monotonic() + 30
        while self.written() < rows:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: {self.rows} rows, exit {self.process.poll()}")
            time.sleep(0.005)

    def under_way(self) -> bool:
        """From a file: rows written. From a pipe: the parent and both workers asleep, twice in a
        row (the parent waiting for more input, the workers for more work)."""
        assert self.process.poll() is None, f"{self.name}: ended by itself ({self.rows} rows)"
        if self.process.stdin is None:
            return self.written() > 0
        states = [p.split()[1] for p in _group(self.process.pid)]
        self._asleep = self._asleep + 1 if len(states) == 3 and set(states) == {"S"} else 0
        return self._asleep >= 2

    def workers(self) -> list[int]:
        pid = self.process.pid
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]

    def end(self, timeout: float = 10) -> tuple[int, str]:
        """The exit code and standard error; still running after ``timeout`` s fails the test."""
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            left = _group(self.process.pid)
            self.kill()
            raise AssertionError(f"{self.name}: still running {timeout} s after the signal: {left}") from None
        return code, self.process.stderr.read().decode()

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        for pipe in (self.process.stdin, self.process.stderr):
            if pipe is not None and not pipe.closed:
                with contextlib.suppress(OSError):
                    pipe.close()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_sigterm_to_the_process_group_ends_a_jobs_run_every_time(seed_model, tmp_path):
    """SIGTERM to the parent and its workers at once (kill -TERM -PGID, a container stop) must end
    a --jobs run with 143, its temporary file removed and every worker reaped. With
    multiprocessing.Pool a worker killed while it held the shared task queue's lock left the pool's
    terminate() waiting for ever, about 1 run in 16 on long inputs. Here runs from a file are
    signalled as their first rows come, and runs from a pipe held open once they wait for more
    input with their workers idle: under the Pool every one of those hung (16 of 16)."""
    source = tmp_path / "lines.txt"
    source.write_bytes(_lines(30_000))
    for round_ in range(2):  # three runs at a time: interpreter start-up is most of each run
        runs = [
            _Run(tmp_path, seed_model, f"out{round_}{i}.jsonl", source=source)
            if i % 2
            else _Run(tmp_path, seed_model, f"out{round_}{i}.jsonl", piped=_lines(3 * 4096))
            for i in range(3)
        ]
        try:
            waiting, deadline = list(runs), time.monotonic() + 30
            while waiting:  # each is signalled once under way
                for run in [run for run in waiting if run.under_way()]:
                    os.killpg(run.process.pid, signal.SIGTERM)
                    waiting.remove(run)
                assert time.monotonic() < deadline, [run.name for run in waiting]
                time.sleep(0.005)
            for run in runs:
                code, stderr = run.end()
                assert code == 128 + signal.SIGTERM, stderr
                assert "Traceback" not in stderr and _group(run.process.pid) == []
        finally:
            for run in runs:
                run.kill()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["lines.txt"]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_worker_killed_mid_run_is_one_error_line(seed_model, tmp_path):
    source = tmp_path / "lines.txt"
    source.write_bytes(_lines(60_000))
    run = _Run(tmp_path, seed_model, "out.jsonl", source=source)
    try:
        run.wait_for(1)
        worker = run.workers()[0]
        os.kill(worker, signal.SIGKILL)  # as the kernel does when memory runs out
        code, stderr = run.end()
    finally:
        run.kill()
    assert code == 1 and stderr.splitlines() == [
        f"error: worker process {worker} was killed by SIGKILL (out of memory?) before it finished its batch"
    ]
    assert _group(run.process.pid) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["lines.txt"]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_ctrl_c_is_one_error_line_and_exit_130(seed_model, tmp_path):
    """Ctrl-C reaches the whole foreground process group: one job, or the parent and its workers."""
    source = tmp_path / "lines.txt"
    source.write_bytes(_lines(60_000))
    runs = [_Run(tmp_path, seed_model, f"out{jobs}.jsonl", jobs=jobs, source=source) for jobs in (1, 2)]
    try:
        for run in runs:
            run.wait_for(1)
            os.killpg(run.process.pid, signal.SIGINT)
        for run in runs:
            code, stderr = run.end()
            assert (code, stderr) == (130, "error: interrupted\n")
            assert _group(run.process.pid) == []
    finally:
        for run in runs:
            run.kill()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lines.txt"]


def test_an_unexpected_error_is_one_line(tmp_path):
    env = {**os.environ, "HOME": str(tmp_path)}
    out = subprocess.run(command("tag", "--model", str(tmp_path)), input=b"x", capture_output=True, env=env)
    assert out.returncode == 1 and out.stderr.decode().count("\n") == 1 and b"Traceback" not in out.stderr


@pytest.mark.skipif(
    not __import__("shutil").which("chromium"), reason="Chromium (Debian package) not installed"
)
def test_html_report_filters_in_a_real_browser(seed_model, tmp_path):
    report = tmp_path / "report.html"
    out = subprocess.run(
        command("tag", str(ARTICLE), "--model", str(seed_model), "--format", "html", "--out", str(report))
    )
    assert out.returncode == 0
    dom = subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--dump-dom",
            f"file://{report}#stance=favor",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    import re

    units = re.findall(r'<span class="u s-(\w+)( hidden)?"', dom)
    assert units, dom[:500]
    assert all(bool(hidden) == (stance != "favor") for stance, hidden in units)
    assert any(stance == "favor" for stance, _ in units)


@pytest.mark.parametrize("told, expected", [(None, 1), ("2", 2)])
def test_the_command_line_runs_one_blas_thread_unless_told_otherwise(told, expected):
    """numpy's BLAS starts a thread per core by default; the CLI's products are too small to share."""
    pytest.importorskip("threadpoolctl")
    if expected > 1 and (os.cpu_count() or 1) < expected:
        pytest.skip("one core: BLAS would run one thread anyway")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    }
    if told is not None:
        env["OPENBLAS_NUM_THREADS"] = told
    code = (  # the entry point runs (--help, its text set aside, imports no numpy), then numpy comes in
        "import io, sys; from nkclassify.cli import main; sys.argv = ['nkclassify', '--help']\n"
        "shown, sys.stdout = sys.stdout, io.StringIO()\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "sys.stdout = shown; import numpy; from threadpoolctl import threadpool_info\n"
        "print(max(p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas'))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert int(out.stdout) == expected


def test_the_console_script_runs_exit_handlers_and_flushes_before_leaving():
    """``entry`` skips the interpreter's teardown, not what exit promises: at-exit handlers run,
    buffered output is written, and the exit code is kept."""
    code = (
        "import atexit, sys; from nkclassify.cli import entry\n"
        "atexit.register(lambda: sys.stdout.write('written at exit\\n'))\n"
        "sys.stdout.write('held in the buffer\\n')\n"
        "sys.argv = ['nkclassify'] + sys.argv[1:]\n"
        "entry()\n"
        "sys.stderr.write('not reached\\n')\n"
    )
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # as in a user's shell
    for args, status in ((["--help"], 0), (["tag", "no-such-file"], 3)):
        out = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60, env=buffered
        )
        assert out.returncode == status, out.stderr
        assert out.stdout.startswith("held in the buffer\n")
        assert out.stdout.endswith("written at exit\n")  # by a handler, after the command: flushed
        assert "not reached" not in out.stderr
        assert "Traceback" not in out.stderr


@pytest.mark.parametrize(
    "args, buffered", [(["tag", "--lines"], True), (["--help"], True), (["tag", "--lines"], False)]
)
def test_output_that_cannot_be_written_is_one_error_line(tmp_path, args, buffered):
    """A full disk: one ``error:`` line and exit 1, whether the output is buffered (a user's shell:
    the rows still held are flushed again at exit) or not (``PYTHONUNBUFFERED``)."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"
    with open("/dev/full", "w") as full:
        out = subprocess.run(
            command(*args),
            input="Nine workers fled.\n",
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=60,
        )
    assert out.returncode == 1
    assert out.stderr.startswith("error:") and len(out.stderr.splitlines()) == 1, out.stderr


_FAULTS = """
import io, resource, sys
from nkclassify.cli import main
if sys.argv[1] == "cli":  # the entry point runs first (--help, its text set aside)
    shown, sys.argv, sys.stdout = sys.stdout, ["nkclassify", "--help"], io.StringIO()
    try:
        main()
    except SystemExit:
        sys.stdout = shown
bytearray(5 << 20)  # one big block, freed at once: glibc's own thresholds follow it (5 and 10 MB)
def batch():  # 16 MB in 4 MB blocks from the heap, zero-filled (every page touched), then freed
    blocks = [bytearray(4 << 20) for _ in range(4)]
for _ in range(2):
    batch()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
batch()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def test_the_command_line_keeps_the_memory_a_batch_freed_for_the_next():
    """glibc hands the top of its heap back once more is free than its self-tuned threshold; a
    batch's arrays then fault in again, page by page, on every batch. The entry point fixes it."""
    import platform

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("glibc only")

    def faults(mode: str) -> int:
        out = subprocess.run([sys.executable, "-c", _FAULTS, mode], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return int(out.stdout)

    default = faults("default")
    if default < 1000:
        pytest.skip(f"this libc keeps freed memory anyway ({default} faults)")
    assert faults("cli") < default / 10


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_live_feed_is_tagged_line_by_line_as_it_comes(seed_model, tmp_path, jobs):
    """``tail -f news.txt | nkclassify tag --lines``: each line's row comes while the pipe waits for
    the next, not when a batch of 2,048 lines has filled."""
    import select

    process = subprocess.Popen(
        command("tag", "--lines", "-j", jobs, "--model", str(seed_model)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=tmp_path,
    )
    try:
        for n, line in enumerate([b"Nine workers fled to Seoul.\n", b"The workers were sent home.\n"]):
            process.stdin.write(line)
            process.stdin.flush()
            ready, _, _ = select.select([process.stdout], [], [], 20)
            assert ready, f"no row for line {n} while the feed waits"
            assert json.loads(process.stdout.readline())["index"] == n
        process.stdin.close()
        assert process.stdout.read() == b"" and process.wait(timeout=20) == 0
    finally:
        process.kill()
        process.wait()
