import io

from nkclassify.inputs import MAX_LINE_CHARS, Document, LineBlock, Problem, decode, iter_lines
from nkclassify.readers import iter_documents, iter_sources


def test_utf8_with_bom_and_crlf():
    document = decode("\ufeffHeadline\r\nBody.\r\n".encode(), "a.txt")
    assert isinstance(document, Document)
    assert document.text == "Headline\nBody.\n" and document.note is None


def test_windows_1252_fallback_is_noted():
    document = decode("Kim’s workers".encode("cp1252"), "b.txt")
    assert isinstance(document, Document) and document.text == "Kim’s workers"
    assert "decoded as Windows-1252" in document.note


def test_binary_empty_and_overlong_inputs_are_problems():
    assert "binary" in decode(b"\x89PNG\r\n\x1a\n\0\0\0", "x.png").message
    assert "empty" in decode(b"  \n\n", "e.txt").message
    assert "not article text" in decode(b"a" * (MAX_LINE_CHARS + 1), "l.txt").message
    assert "not UTF-8 or Windows-1252" in decode(b"caf\x81", "u.txt").message


def test_folder_is_read_sorted_and_problems_stay_in_place(tmp_path):
    (tmp_path / "b.txt").write_text("Second.")
    (tmp_path / "a.txt").write_text("First.")
    (tmp_path / "notes.md").write_text("ignored")
    (tmp_path / "empty").mkdir()
    items = list(iter_documents([str(tmp_path), str(tmp_path / "missing.txt"), str(tmp_path / "empty")]))
    assert [i.source.rsplit("/", 1)[-1] for i in items] == ["a.txt", "b.txt", "missing.txt", "empty"]
    assert isinstance(items[2], Problem) and "no such file" in items[2].message
    assert isinstance(items[3], Problem) and "no files of a known kind" in items[3].message


def test_folder_names_links_fifos_and_unreadable_entries_it_skips(tmp_path):
    import os

    (tmp_path / "good.txt").write_text("Fine.")
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    (tmp_path / "loop.txt").symlink_to(tmp_path / "loop.txt")
    os.mkfifo(tmp_path / "pipe.txt")
    items = list(iter_documents([str(tmp_path)]))
    problems = {i.source.rsplit("/", 1)[-1]: i.message for i in items if isinstance(i, Problem)}
    assert "dangling" in problems["dangling.txt"] and "looping" in problems["loop.txt"]
    assert "FIFO" in problems["pipe.txt"]
    assert [i.text for i in items if isinstance(i, Document)] == ["Fine."]


def test_stdin_whole():
    assert list(iter_documents([], io.BytesIO(b"One. Two."))) == [Document("-", "One. Two.")]


def _flat(items):
    """Blocks flattened to (kind, number, offset, text or message) and the notes they carry."""
    rows, notes = [], []
    for item in items:
        if isinstance(item, Problem):
            rows.append(("problem", item.message))
        else:
            notes += item.notes
            rows += [("line", line.number, line.offset, line.text) for line in item.lines()]
    return rows, notes


def test_lines_are_numbered_by_input_line_and_a_bad_line_costs_only_itself():
    good = b"".join(f"good {i}\n".encode() for i in range(6000))
    rest = b"".join(f"after {i}\n".encode() for i in range(4000))
    stream = io.BytesIO(good + b"x" * 150_000 + b"\n" + b"caf\xe9 latin\n" + b"nul\0byte\n" + rest)
    items = list(iter_lines(stream, "-"))
    assert all(isinstance(i, (LineBlock, Problem)) for i in items)
    rows, notes = _flat(items)
    lines = [r for r in rows if r[0] == "line"]
    problems = [r[1] for r in rows if r[0] == "problem"]
    assert len(lines) == 6000 + 1 + 4000
    assert [p.split(":")[0] for p in problems] == ["line 6001", "line 6003"]
    assert "over 100,000 characters" in problems[0] and "binary" in problems[1]
    assert lines[6000][1:] == (6002, lines[5999][2] + len("good 5999\n") + 150_001, "café latin")
    assert notes == ["line 6002: not UTF-8 (bad byte at 3); decoded as Windows-1252"]
    assert lines[-1][1] == 10003 and lines[-1][3] == "after 3999"
    assert len([i for i in items if isinstance(i, LineBlock)]) < 10  # clean stretches come as whole blocks


def test_lines_read_the_same_whatever_the_block_size():
    """Block edges fall anywhere (mid-line, mid-character, on a CR); numbering and offsets never move."""
    data = (
        "\ufeffpremier\r\n\n  indented \r\n".encode()
        + "Hangul 한국어 and accents café\n".encode() * 3
        + b"latin \xe9t\xe9\n"
        + b"z" * 300
        + b"\n"
        + b"w" * 500  # past the byte limit too: skipped while reading, even across blocks
        + b"\n"
        + b"bad\0line\n\r\n"
        + "ünïcode at the end, no break".encode()
    )
    expected = _flat(iter_lines(io.BytesIO(data), "s", max_chars=100, block_bytes=1 << 20))
    for size in (1, 2, 3, 7, 64, 301):
        assert _flat(iter_lines(io.BytesIO(data), "s", max_chars=100, block_bytes=size)) == expected, size
    rows, notes = expected
    texts = [r[3] for r in rows if r[0] == "line"]
    assert texts[:3] == ["premier", "", "  indented "]
    assert rows[2][2] == len("premier\r\n\n") and texts[-1] == "ünïcode at the end, no break"
    problems = [r[1] for r in rows if r[0] == "problem"]
    assert [p.split(":")[0] for p in problems] == ["line 8", "line 9", "line 10"]
    assert problems[1] == "line 9: over 100 characters (501 bytes), skipped"
    assert len(notes) == 1 and notes[0].startswith("line 7:")


def test_a_stream_with_no_line_break_stops_in_bounded_memory():
    class Zeros(io.RawIOBase):  # /dev/zero: endless, no newline
        def readable(self):
            return True

        def readinto(self, buffer):
            buffer[:] = b"\0" * len(buffer)
            return len(buffer)

    items = list(iter_lines(io.BufferedReader(Zeros()), "-"))
    assert len(items) == 1 and "no line break" in items[0].message


def test_lines_mode_streams_files_and_stdin(tmp_path):
    (tmp_path / "a.txt").write_text("\ufeffone\r\n\r\n  two\n")
    items = [
        line
        for block in iter_sources([str(tmp_path / "a.txt"), "-"], io.BytesIO(b"three"))
        for line in block.lines()
    ]
    assert [(i.source.rsplit("/", 1)[-1], i.number, i.text) for i in items] == [
        ("a.txt", 1, "one"),
        ("a.txt", 2, ""),
        ("a.txt", 3, "  two"),
        ("-", 1, "three"),
    ]
    assert items[2].offset == len("one\r\n\r\n")


def test_line_units_keep_what_strip_keeps_with_its_offsets():
    """Clean blocks (nothing to strip: the quick road) and blocks with padded or blank lines give
    each line's stripped text, its offsets in the input and its 0-based line number."""
    from nkclassify.tag import _line_piece

    def expected(block):
        units = []
        for number, offset, text in zip(block.numbers, block.offsets, block.texts):
            if text.strip():
                start = offset + len(text) - len(text.lstrip())
                units.append((text.strip(), number - 1, start, start + len(text.strip())))
        return units

    clean = ["one", "two words", "café 한국어", "x", "tab\tinside"]
    padded = [" lead", "trail ", "\tboth\u3000", "", "   ", "\x1cfile sep", "ok", "nbsp\u00a0"]
    for texts in (clean, padded, clean + [""], [""], clean + ["\u2028"]):
        numbers = list(range(7, 7 + len(texts)))
        offsets = list(range(100, 100 + 20 * len(texts), 20))
        block = LineBlock("s", numbers, offsets, list(texts), [], ids=[f"r{n}" for n in numbers])
        piece = _line_piece(block)
        assert list(zip(piece.texts, piece.index, piece.start, piece.end)) == expected(block), texts
        kept = [i for i, t in enumerate(texts) if t.strip()]
        assert piece.ids == [f"r{numbers[i]}" for i in kept] and piece.pages is None


def test_a_pipe_that_waits_says_so_after_its_whole_lines():
    """A live feed: once the lines that came are read and nothing more waits, an empty block with
    ``pause`` follows them; a regular file or a buffer never pauses."""
    import os

    read_end, write_end = os.pipe()
    with open(read_end, "rb") as stream:
        os.write(write_end, b"first line\nsecond li")
        items = iter_lines(stream, "-")
        block = next(items)
        assert block.texts == ["first line"] and not block.pause
        assert next(items).pause  # "second li" waits for its end
        os.write(write_end, b"ne\n")
        os.close(write_end)
        rest = list(items)
    assert [b.texts for b in rest if not b.pause] == [["second line"]]
    assert not any(b.pause for b in iter_lines(io.BytesIO(b"a\nb\n" * 1000), "-", block_bytes=64))


def test_a_stream_read_as_one_unit():
    import pytest

    from nkclassify.errors import InputError
    from nkclassify.inputs import read_unit

    assert read_unit(io.BytesIO("\ufeffWorkers fled.\r\n".encode())) == ("Workers fled.", None)
    text, note = read_unit(io.BytesIO("Workers fled to Caf\xe9 Seoul.".encode("cp1252")))
    assert text == "Workers fled to Caf\xe9 Seoul." and "decoded as Windows-1252" in note
    with pytest.raises(InputError, match="not UTF-8 or Windows-1252"):
        read_unit(io.BytesIO(b"\x81\x8d bad"))  # bytes Windows-1252 leaves undefined
    with pytest.raises(InputError, match="longer than one unit"):
        read_unit(io.BytesIO(b"x" * 101), max_chars=100)
