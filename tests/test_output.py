"""Writers format rows straight from the tagger's columns; the bytes must equal one record at a time."""

from __future__ import annotations

import csv
import io
import json
import random
from json.encoder import encode_basestring

import numpy as np
import pytest

from nkclassify import Tagger
from nkclassify.inputs import LineBlock
from nkclassify.output import WRITERS, _json_inner, jsonl_lines
from nkclassify.tag import TaggedDocument

FUZZ = [
    "Nine workers defected to South Korea.",
    'Quotes "inside", a back\\slash and a tab\tin the middle',
    "Hangul 북한 노동자 and accents: café, naïve, Ærø",
    "control \x01 characters \x7f and a bell \x07",
    "emoji 🙂 and a lone surrogate-free astral 𝔘",
    "100% of the wages; 50%% doubled",
    "x",
]


def _document(tagger: Tagger, texts: list[str], source: str = 'src "%s".txt') -> TaggedDocument:
    block = LineBlock(source, list(range(1, len(texts) + 1)), list(range(len(texts))), texts, [])
    [document] = tagger.tag_lines([block])
    return document


def _reference_csv(writer, units) -> str:
    """The CSV rows built from one record at a time: what the column writer must reproduce."""
    buffer = io.StringIO()
    rows = [
        [u["source"], u.get("id", ""), u["index"], u["start"], u["end"], u.get("page", ""), u["text"]]
        + [";".join(u["topics"]), u["stance"]]
        + [u["scores"]["topics"][t] for t in writer.topic_names]
        + [u["scores"]["stance"][s] for s in writer.stance_names]
        for u in units
    ]
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def test_jsonl_and_csv_from_columns_equal_record_by_record(seed_model):
    tagger = Tagger.load(seed_model)
    document = _document(tagger, FUZZ * 30)
    jsonl = WRITERS["jsonl"](tagger.topic_names, tagger.stance_names)
    assert jsonl.rows(document) == jsonl_lines(document.units)
    records = [json.loads(line) for line in jsonl.rows(document).splitlines()]
    assert [r["text"] for r in records] == FUZZ * 30 and records[0]["source"] == 'src "%s".txt'
    writer = WRITERS["csv"](tagger.topic_names, tagger.stance_names)
    assert writer.rows(document) == _reference_csv(writer, document.units)


def test_texts_are_escaped_as_the_json_encoder_escapes_them():
    """The batch is scanned once for what needs escaping: every text must still come out as the
    encoder writes it, whatever sits at the edges between texts (empty texts too)."""
    rng = random.Random(7)
    # the batch is joined at \x1f: batches with and without it in their texts
    for alphabet in ('ab "\\\t\n\x00\x7f é북🙂\ud800', 'ab "\\\t\n\x00\x1f\x7f é북🙂\ud800'):
        for _ in range(200):
            texts = ["".join(rng.choices(alphabet, k=rng.randrange(6))) for _ in range(rng.randrange(1, 12))]
            assert [f'"{t}"' for t in _json_inner(texts)] == list(map(encode_basestring, texts))
    clean = ["no escapes here", "", "북한"]
    assert _json_inner(clean) is clean  # the usual batch: the texts themselves, no copy


def test_every_rounded_probability_is_written_as_python_writes_it(seed_model):
    """The lookup table of probability strings covers every value np.round(p, 4) can give."""
    tagger = Tagger.load(seed_model)
    document = _document(tagger, FUZZ)
    edge = np.array([0.0, 1e-12, 0.00005, 0.00015, 0.12345, 0.99995, 0.999999, 1.0])
    grid = np.concatenate([edge, np.random.default_rng(0).random(5000)])
    n = len(grid)
    k = len(tagger.topic_names)
    document.texts = ["t"] * n
    document.index, document.start, document.end = list(range(n)), [0] * n, [1] * n
    document.topic_proba = np.round(np.column_stack([grid] * k), 4)
    document.topics = document.topic_proba >= 0.5
    document.stance_proba = np.round(np.column_stack([grid, 1 - grid, grid / 2]), 4)
    document.stance = document.stance_proba.argmax(axis=1)
    document.__dict__.pop("units", None)  # records cached from the old columns, if any
    writer = WRITERS["jsonl"](tagger.topic_names, tagger.stance_names)
    assert writer.rows(document) == jsonl_lines(document.units)


def test_label_names_with_percent_signs_and_quotes_stay_literal(seed_model):
    tagger = Tagger.load(seed_model)
    document = _document(tagger, FUZZ)
    odd_topics = [f'{t} 100% "q"' for t in tagger.topic_names]
    odd_stances = [f"{s} %s" for s in tagger.stance_names]
    document.topic_names, document.stance_names = odd_topics, odd_stances
    writer = WRITERS["jsonl"](odd_topics, odd_stances)
    assert writer.rows(document) == jsonl_lines(document.units)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_records_with_ids_and_pages_take_the_record_road(seed_model, fmt):
    tagger = Tagger.load(seed_model)
    document = _document(tagger, FUZZ)
    document.ids = [f"r{i}" if i % 2 else None for i in range(len(FUZZ))]
    document.pages = [i // 3 + 1 for i in range(len(FUZZ))]
    document.__dict__.pop("units", None)  # records cached from the old columns, if any
    units = document.units
    assert [u.get("id") for u in units] == document.ids and [u["page"] for u in units] == document.pages
    writer = WRITERS[fmt](tagger.topic_names, tagger.stance_names)
    expected = jsonl_lines(units) if fmt == "jsonl" else _reference_csv(writer, units)
    assert writer.rows(document) == expected


def test_table_rows_show_every_unit_and_the_counts(seed_model):
    tagger = Tagger.load(seed_model)
    document = _document(tagger, FUZZ)
    text = WRITERS["table"](tagger.topic_names, tagger.stance_names, width=100).rows(document)
    lines = text.splitlines()
    assert lines[0] == f"== {document.source} ({len(FUZZ)} sentences)"
    body = lines[2 : 2 + len(FUZZ)]
    for unit, line in zip(document.units, body):
        assert line.split()[0] == str(unit["index"]) and line.split()[1] == unit["stance"]
    stances = [u["stance"] for u in document.units]
    counts = ", ".join(f"{s} {stances.count(s)}" for s in tagger.stance_names)
    assert f"stance (sentences): {counts}" in text
