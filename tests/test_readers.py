"""Each reader on a good file and a bad one; the other inputs always go on."""

import json

import pytest

from nkclassify.inputs import Document, Problem
from nkclassify.readers import EXTENSIONS, READERS, ReadOptions, iter_documents, iter_sources

PAGE = """<html><head><title>Nine workers flee a Russian site</title></head><body>
<nav><a href="/">Home</a> | <a href="/world">World</a> | <a href="/login">Log in</a></nav>
<article><h1>Nine workers flee a Russian site</h1>
<p>Nine North Korean workers fled a building site near Vladivostok last week, two people with knowledge of the case said on Monday.</p>
<p>They later asked for asylum at a foreign consulate, where officials confirmed that the group had arrived and was safe.</p>
<p>“We could not stay another winter there,” one of the men told the consulate staff, according to the same sources.</p>
</article><footer>© 2025 Example News. Subscribe to our newsletter for more.</footer></body></html>"""


def make_pdf(pages: list[str]) -> bytes:
    """A minimal PDF with one line of Helvetica text per page (enough for a text layer)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", ""]
    kids = []
    for text in pages:
        content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
        page_no = len(objects) + 1
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {page_no + 1} 0 R "
            f"/Resources << /Font << /F1 {2 * len(pages) + 3} 0 R >> >> >>"
        )
        objects.append(f"<< /Length {len(content)} >>\nstream\n{content.decode()}\nendstream")
        kids.append(f"{page_no} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>"
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def docs(items):
    return [i for i in items if isinstance(i, Document)]


def problems(items):
    return [i for i in items if isinstance(i, Problem)]


def test_registry_and_extensions_agree():
    assert set(EXTENSIONS.values()) <= set(READERS)


def test_saved_web_page_keeps_title_and_article_drops_boilerplate(tmp_path):
    (tmp_path / "page.html").write_text(PAGE, encoding="utf-8")
    [document] = docs(iter_documents([str(tmp_path / "page.html")]))
    assert document.text.startswith("Nine workers flee a Russian site\n")
    assert "asked for asylum" in document.text and "“We could not stay" in document.text
    assert "Log in" not in document.text and "Subscribe" not in document.text


def test_a_page_with_no_article_is_one_problem(tmp_path):
    (tmp_path / "empty.html").write_text(
        "<html><head><title>Log in</title></head><body><script>var a = 1;</script></body></html>"
    )
    (tmp_path / "good.txt").write_text("Workers fled.")
    items = list(iter_documents([str(tmp_path)]))
    assert [p.message for p in problems(items)] == ["no article text found in the web page"]
    assert [d.text for d in docs(items)] == ["Workers fled."]


def test_pdf_text_comes_with_page_numbers(tmp_path):
    (tmp_path / "report.pdf").write_bytes(make_pdf(["Workers were sent home.", "Two of them fled the site."]))
    [document] = docs(iter_documents([str(tmp_path / "report.pdf")]))
    assert "sent home" in document.text and "fled the site" in document.text
    assert document.page_of(document.text.index("sent home")) == 1
    assert document.page_of(document.text.index("fled the site")) == 2


def test_a_broken_pdf_is_one_problem(tmp_path):
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not a real PDF\n")
    [problem] = problems(iter_documents([str(tmp_path / "broken.pdf")]))
    assert "PDF" in problem.message


def test_csv_records_with_ids_blank_and_multiline_cells(tmp_path):
    (tmp_path / "texts.csv").write_text(
        'id,body\n7,"Workers fled.\nThey sought asylum."\n8,\n9,"Sent home, then jailed."\n', encoding="utf-8"
    )
    options = ReadOptions(text_field="body", id_field="id")
    items = list(iter_documents([str(tmp_path / "texts.csv")], options=options))
    assert [(d.record_id, d.text) for d in docs(items)] == [
        ("7", "Workers fled.\nThey sought asylum."),
        ("9", "Sent home, then jailed."),
    ]
    assert ["record 2 (id 8)" in p.message for p in problems(items)] == [True]
    blocks = iter_sources([str(tmp_path / "texts.csv")], options=options)  # one block of lines a record
    lines = [line for b in blocks for line in ([b] if isinstance(b, Problem) else b.lines())]
    assert [(line.record_id, line.number, line.text) for line in lines if not isinstance(line, Problem)] == [
        ("7", 1, "Workers fled. They sought asylum."),
        ("9", 3, "Sent home, then jailed."),  # the blank record 2 leaves a gap
    ]


def test_csv_without_the_field_names_the_columns(tmp_path):
    (tmp_path / "t.tsv").write_text("id\ttext\n1\tWorkers fled.\n")
    [problem] = problems(iter_documents([str(tmp_path / "t.tsv")], options=ReadOptions(text_field="body")))
    assert "no field 'body' (fields: id, text)" in problem.message
    [problem] = problems(iter_documents([str(tmp_path / "t.tsv")]))
    assert "text field" in problem.message
    [document] = docs(iter_documents([str(tmp_path / "t.tsv")], options=ReadOptions(text_field="text")))
    assert document.text == "Workers fled." and document.record_id == "1"


def test_jsonl_records_and_bad_lines(tmp_path):
    rows = [
        json.dumps({"id": "a", "text": "Workers fled."}),
        "{broken",
        json.dumps([1]),
        json.dumps({"id": "b", "text": "Sent home."}),
    ]
    (tmp_path / "t.jsonl").write_text("\n".join(rows) + "\n")
    items = list(
        iter_documents([str(tmp_path / "t.jsonl")], options=ReadOptions(text_field="text", id_field="id"))
    )
    assert [d.record_id for d in docs(items)] == ["a", "b"]
    assert [p.message.split(":")[0] for p in problems(items)] == ["line 2", "line 3"]


@pytest.mark.parametrize("fmt", ["html", "csv"])
def test_stdin_in_a_named_format(fmt):
    import io

    data = PAGE.encode() if fmt == "html" else b"text\nWorkers fled.\n"
    options = ReadOptions(input_format=fmt, text_field="text")
    [document] = docs(iter_documents(["-"], io.BytesIO(data), options))
    assert "fled" in document.text and document.source == "-"
