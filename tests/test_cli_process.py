"""The installed command run as a person runs it: on a terminal, piped, signalled, with odd file names."""

import json
import os
import signal
import subprocess
import sys
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
