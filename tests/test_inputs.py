import io

from nkclassify.inputs import MAX_LINE_CHARS, Document, Problem, decode, iter_documents, iter_line_chunks


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
    assert isinstance(items[3], Problem) and "no .txt files" in items[3].message


def test_stdin_whole_and_in_chunks():
    items = list(iter_documents([], io.BytesIO(b"One. Two.")))
    assert items == [Document("-", "One. Two.")]
    chunks = list(iter_line_chunks(io.BytesIO(b"a\nb\nc\n"), lines_per_chunk=2))
    assert [c.text for c in chunks] == ["a\nb\n", "c\n"]
