#!/usr/bin/env bash
# A user's install: build the wheel, install it in a fresh venv (no checkout on the path), and tag a
# saved web page, a PDF and a CSV column from another folder. Run by .ci/run after the tests.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python -m build --wheel --outdir "$work/dist" "$repo" >/dev/null
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "$work"/dist/*.whl
cp "$repo"/tests/fixtures/documents/* "$work/"
cd "$work"
export PATH="$work/venv/bin:$PATH"
nkclassify --version
nkclassify tag page.html report.pdf --format jsonl > tags.jsonl
nkclassify tag texts.csv --text-field body --id-field ref --level article --format csv > articles.csv
nkclassify tag page.html --format html --out report.html
python3 - <<'PY'
import csv, json
rows = [json.loads(line) for line in open("tags.jsonl")]
assert {r["source"] for r in rows} == {"page.html", "report.pdf"}, rows
assert all(r["page"] in (1, 2) for r in rows if r["source"] == "report.pdf")
assert any("defection" in r["topics"] for r in rows)
articles = list(csv.DictReader(open("articles.csv")))
assert [a["id"] for a in articles] == ["A1", "A2"], articles
assert open("report.html").read().startswith("<!doctype html>")
print(f"installed wheel: tagged {len(rows)} units from HTML and PDF, {len(articles)} CSV records, wrote an HTML report")
PY
