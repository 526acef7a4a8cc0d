import io

import numpy as np

from nkclassify import Tagger
from nkclassify.inputs import Document, Problem, iter_lines


def test_tag_returns_labels_and_rounded_scores(seed_model):
    tagger = Tagger.load(seed_model)
    [record] = tagger.tag("The workers were sent home after their contracts ended.")
    assert set(record) == {"text", "topics", "stance", "scores"}
    assert set(record["scores"]["topics"]) == set(tagger.topic_names)
    assert abs(sum(record["scores"]["stance"].values()) - 1) < 1e-3
    assert all(round(v, 4) == v for v in record["scores"]["topics"].values())
    topic_proba, decided, stance_proba, stance = tagger.engine.predict([record["text"]])
    assert record["topics"] == [t for t, on in zip(tagger.topic_names, decided[0]) if on]
    assert record["stance"] == tagger.stance_names[int(np.argmax(stance_proba[0]))]


def test_tag_article_splits_with_offsets_and_batches_across_documents(seed_model):
    tagger = Tagger.load(seed_model)
    docs = [
        Document("a", "Headline\n\nOne sentence. Another."),
        Problem("bad", "empty"),
        Document("b", "Solo line"),
    ]
    results = list(tagger.tag_documents(docs, batch_units=2))
    assert [getattr(r, "source", None) for r in results] == ["a", "bad", "b"]
    units = results[0].units
    assert [u["text"] for u in units] == ["Headline", "One sentence.", "Another."]
    assert [u["index"] for u in units] == [0, 1, 2]
    assert all(docs[0].text[u["start"] : u["end"]] == u["text"] for u in units)
    assert results[2].units[0]["source"] == "b"


def test_lines_keep_their_input_line_number_across_batches_and_gaps(seed_model):
    tagger = Tagger.load(seed_model)
    stream = io.BytesIO(b"Line 0.\n\nLine 2.\n" + b"y" * 200_000 + b"\nLine 4.\nLine 5.\n")
    results = list(tagger.tag_lines(iter_lines(stream), batch_units=2))
    tagged = [u for r in results if not isinstance(r, Problem) for u in r.units]
    assert [u["index"] for u in tagged] == [0, 2, 4, 5]
    assert [u["text"] for u in tagged] == ["Line 0.", "Line 2.", "Line 4.", "Line 5."]
    assert [r.message.split(":")[0] for r in results if isinstance(r, Problem)] == ["line 4"]


def test_explain_names_the_features_behind_each_decision(seed_model):
    tagger = Tagger.load(seed_model)
    explanation = tagger.explain(
        "Two soldiers fled their base and were imprisoned for attempted defection.", top=40
    )
    entries = list(explanation.topics.values()) + [explanation.best_rejected_topic or {"evidence": []}]
    for entry in explanation.topics.values():
        assert entry["probability"] >= entry["threshold"]
    evidence = [e for entry in entries for e in entry["evidence"]]
    assert evidence and all(e["weight"] > 0 for e in evidence)
    assert any(e["feature"].startswith("[defection terms: fled, defection") for e in evidence), evidence
    assert explanation.stance["label"] in tagger.stance_names and explanation.stance["evidence"]


def test_loading_never_imports_scikit_learn(seed_model):
    """Nor numpy.ma (plain np.unique imports it: 20 ms of every start)."""
    import subprocess
    import sys

    code = (
        "import sys; from nkclassify import Tagger; t = Tagger.load(sys.argv[1]); t.tag(['Workers fled.']);"
        "t.explain('Workers fled.'); bad = [m for m in ('sklearn', 'scipy', 'datasets', 'numpy.ma') if m in sys.modules];"
        "print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(seed_model)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_jobs_keep_order_and_the_pool_ends_cleanly_under_the_cli_signal_handler(seed_model):
    """Workers inherit the CLI's SIGTERM handler; ending the pool must not hang on them (it did,
    about one run in ten, when the pool was terminated while a worker held the queue lock)."""
    import signal

    tagger = Tagger.load(seed_model)
    data = b"".join(f"Line {i}: workers were sent home.\n".encode() for i in range(400))

    def terminated(signum, frame):
        raise SystemExit(143)

    def hung(signum, frame):
        raise AssertionError("the worker pool did not end")

    previous = signal.signal(signal.SIGTERM, terminated), signal.signal(signal.SIGALRM, hung)
    try:
        one = [u for d in tagger.tag_lines(iter_lines(io.BytesIO(data)), batch_units=16) for u in d.units]
        for _ in range(6):
            signal.alarm(20)
            items = tagger._in_parallel(iter_lines(io.BytesIO(data), block_bytes=256), True, 16, 2)
            two = [u for d in items for u in d.units]
            signal.alarm(0)
            assert two == one
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGALRM, previous[1])


def test_workers_can_render_the_output_and_send_back_text_only(seed_model):
    tagger = Tagger.load(seed_model)
    data = b"".join(f"Line {i}: workers were sent home.\n".encode() for i in range(300))

    def render(document):
        return "".join(f"{i}:{s}\n" for i, s in zip(document.index, document.stance.tolist()))

    expected = "".join(render(d) for d in tagger.tag_lines(iter_lines(io.BytesIO(data)), batch_units=16))
    items = list(tagger._in_parallel(iter_lines(io.BytesIO(data), block_bytes=256), True, 16, 2, render))
    assert "".join(d.rendered for d in items) == expected
    assert all(d.topic_proba is None and not d.texts for d in items)  # no arrays crossed back
    assert sum(len(d) for d in items) == 300


def _awkward_lines(max_chars: int) -> bytes:
    """Lines that take every road of the line reader: BOM, CRLF, blanks, a bad byte, a NUL, an
    over-long line (ASCII and multi-byte), non-ASCII text, and no line break at the end."""
    lines = [b"\xef\xbb\xbfFirst line with a BOM."]
    for i in range(60):
        lines.append(f"Line {i}: workers \u2019sent\u2019 home from Rason.\r".encode())
        if i % 7 == 0:
            lines.append(b"   ")
        if i == 20:
            lines.append(b"caf\xe9 in Windows-1252")
        if i == 30:
            lines.append(b"binary\0junk")
        if i == 40:
            lines.append(b"x" * (max_chars + 1))
        if i == 45:
            lines.append("\u00e9".encode() * (max_chars // 2 + 1))  # over the limit in bytes, not characters
        if i == 50:  # over the byte limit: skipped by its size in bytes, not characters
            lines.append("\u00e9".encode() * (2 * max_chars + 2))
    return b"\n".join(lines) + b"\nLast line without a break"


def _read(block: object) -> object:
    return (block.numbers, block.offsets, block.texts, block.notes) if hasattr(block, "numbers") else block


def test_raw_line_bytes_read_by_a_worker_give_the_lines_and_problems_of_one_reader():
    """With --jobs, clean chunks travel as bytes with the number and offset they start at; read
    there, they must be exactly the lines one reader gives, problems and notes in the same places."""
    from nkclassify.inputs import RawLines

    max_chars = 200
    for data in (_awkward_lines(max_chars), _awkward_lines(max_chars)[:-25], b"\xef\xbb\xbfonly\r\n"):
        raw = False  # the clean stretches between the awkward lines go as bytes at small block sizes
        for block_bytes in (64, 300, 1000, 1 << 20):
            one = [
                _read(b)
                for b in iter_lines(io.BytesIO(data), "f", max_chars=max_chars, block_bytes=block_bytes)
            ]
            for per in (1, 3, 4096):
                items = list(
                    iter_lines(
                        io.BytesIO(data), "f", max_chars=max_chars, block_bytes=block_bytes, raw_lines=per
                    )
                )
                raw |= any(isinstance(i, RawLines) for i in items)
                assert all(len(i) <= per for i in items if isinstance(i, RawLines))
                expanded = [b for i in items for b in (i.blocks() if isinstance(i, RawLines) else [i])]
                # blocks may be cut elsewhere: compare line by line, problems and notes in their places
                assert _flat(map(_read, expanded)) == _flat(one), (block_bytes, per)
        assert raw


def _flat(reads) -> list:
    out = []
    for r in reads:
        if isinstance(r, Problem):
            out.append(r)
            continue
        numbers, offsets, texts, notes = r
        out += [("note", n) for n in notes] + list(zip(numbers, offsets, texts))
    return out


def test_jobs_give_the_output_and_problems_of_one_job_on_awkward_input(seed_model, tmp_path):
    from nkclassify.inputs import MAX_LINE_CHARS

    tagger = Tagger.load(seed_model)
    path = tmp_path / "awkward.txt"
    path.write_bytes(_awkward_lines(MAX_LINE_CHARS) * 3)

    def render(document):
        return "".join(f"{i} {s} {e} {t}\n" for i, s, e, t in zip(*_columns(document)))

    def run(jobs, batch_units, stdin=False):
        if stdin:
            with open(path, "rb") as handle:
                items = list(tagger.tag_inputs([], handle, True, batch_units, jobs=jobs, render=render))
        else:
            items = list(tagger.tag_inputs([str(path)], None, True, batch_units, jobs=jobs, render=render))
        return [
            (i.source, i.message) if isinstance(i, Problem) else (i.note, i.rendered or render(i))
            for i in items
        ]

    def text(results):
        return "".join(r[1] for r in results if r[0] is None), [r for r in results if r[1] is None or r[0]]

    one = run(1, 4096)
    assert sum(1 for r in one if "NUL" in r[1]) == 3
    for batch_units in (5, 64, 4096):
        assert text(run(2, batch_units)) == text(one)
    assert text(run(2, 16, stdin=True))[0] == text(run(1, 16, stdin=True))[0]


def _columns(document):
    return document.index, document.start, document.end, document.texts


def test_jobs_read_whole_articles_in_the_workers_with_the_problems_of_one_job(seed_model, tmp_path):
    """With --jobs the parent only walks folders; each file is read by the worker that tags it.
    What comes out (documents, notes, problems, their order) must be what one job gives."""
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    for i in range(12):
        (folder / f"{i:02d}.txt").write_text(
            f"Workers left site {i}. They flew home.\n\nA second paragraph.\n"
        )
    (folder / "03b.txt").write_bytes(b"")
    (folder / "05b.txt").write_bytes(b"bin\0ary")
    (folder / "07b.txt").write_bytes(b"Caf\xe9 workers fled.\r\nAnother line.")
    (folder / "sub" / "page.html").write_text("<html><body><p>Soldiers were sent to Kursk.</p></body></html>")
    (folder / "sub" / "rows.csv").write_text("id,text\nr1,Workers fled.\nr2,\nr3,They were paid.\n")
    (folder / "sub" / "gone.txt").symlink_to(folder / "missing.txt")
    tagger = Tagger.load(seed_model)

    def run(jobs, batch_units=4096, paths=(str(folder), str(folder / "nothing.txt"))):
        return [
            (i.source, i.message)
            if isinstance(i, Problem)
            else (
                i.source,
                i.note,
                i.record_id,
                [(u["index"], u["start"], u["text"], u["stance"]) for u in i.units],
            )
            for i in tagger.tag_inputs(list(paths), None, False, batch_units, jobs=jobs)
        ]

    one = run(1)
    assert sum(isinstance(r[1], str) and "skipped" in r[1] for r in one) >= 2
    assert any(r[1] and "Windows-1252" in r[1] for r in one)
    for batch_units in (1, 3, 4096):
        assert run(2, batch_units) == one


def test_without_fork_jobs_run_in_one_process(seed_model, tmp_path, monkeypatch):
    """Where there is no fork (Windows), --jobs N tags in this process, with the same output."""
    import os

    from nkclassify import Tagger

    path = tmp_path / "lines.txt"
    path.write_text("Workers fled.\n" * 5000, encoding="utf-8")
    tagger = Tagger.load(seed_model)
    expected = [len(d) for d in tagger.tag_inputs([str(path)], None, lines=True, jobs=1)]
    monkeypatch.delattr(os, "fork")
    got = [len(d) for d in tagger.tag_inputs([str(path)], None, lines=True, jobs=2)]
    assert got == expected and sum(got) == 5000
