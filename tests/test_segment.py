import random
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from syntok.tokenizer import Tokenizer

from nkclassify.schema import load_schema
from nkclassify.segment import _ODD_SPACE, _SPLIT_RUNS, _reference_spans, split_lines, split_sentences

REPO = Path(__file__).resolve().parent.parent


def texts(units):
    return [u.text for u in units]


def test_headline_and_caption_lines_are_units_of_their_own():
    article = "Workers stranded in Russia\n\nPhoto: a crane in Vladivostok\nThe order came on Monday. It was not explained."
    assert texts(split_sentences(article)) == [
        "Workers stranded in Russia",
        "Photo: a crane in Vladivostok",
        "The order came on Monday.",
        "It was not explained.",
    ]


def test_abbreviations_do_not_end_sentences():
    units = texts(
        split_sentences("The U.S. Treasury named two firms. Dr. Kim met Mr. Ri at 3 p.m. on Monday.")
    )
    assert units == ["The U.S. Treasury named two firms.", "Dr. Kim met Mr. Ri at 3 p.m. on Monday."]


def test_quoted_speech_keeps_its_attribution():
    units = texts(split_sentences("“We had no choice,” the worker said. He left in May."))
    assert units == ["“We had no choice,” the worker said.", "He left in May."]


def test_a_unit_never_spans_a_line_break():
    units = split_sentences("First half of a line\nsecond half.")
    assert texts(units) == ["First half of a line", "second half."]


def test_offsets_point_into_the_article():
    article = "  Indented headline  \n\n\tA sentence. Another one!\r\n"
    for unit in split_sentences(article):
        assert article[unit.start : unit.end] == unit.text
    assert [u.index for u in split_sentences(article)] == [0, 1, 2]


def test_split_lines_keeps_each_line_whole():
    units = split_lines("One. Two.\n\n  Three  \n")
    assert texts(units) == ["One. Two.", "Three"]
    assert units[1].start == 13


@given(
    st.lists(st.sampled_from(list("ab .!?\n“”\"'US\t") + ["Dr.", " the ", "U.S."]), max_size=80).map("".join)
)
def test_units_are_exact_ordered_and_stripped(article):
    previous_end = 0
    for unit in split_sentences(article):
        assert article[unit.start : unit.end] == unit.text
        assert unit.text == unit.text.strip() and unit.text
        assert "\n" not in unit.text
        assert unit.start >= previous_end
        previous_end = unit.end


# --- the fast splitter cuts exactly where plain syntok does -----------------------------------------

# Pieces that reach every branch of syntok's tokenizer and state machine: abbreviations, initials,
# numbers, months, ellipses, quotes after terminals, brackets short and long (with and without a
# sentence inside), separators inside words, Hangul, Cyrillic, CJK and full-width terminals, URLs,
# emails, and the odd spaces (zero width, no-break, \x1c which Python strips and syntok does not).
_PIECE_TEXT = (
    "Mr.|Mrs.|Dr.|U.S.|U.N.|No. 3|no. 5|No.|NO.|no|3.5|1,000|2024.|p.m.|a.m.|e.g.|i.e.|etc.|"
    "Jan.|Jan. 5|5 Jan.|Sept.|Sep 5|May|May.|Kim J. Un|J.|A.|II.|IV|X.|I|vs.|St.|Inc.|Corp.|Co.|"
    "Ltd.|Fig. 2|...|…|..|.|!|?|?!|;|:|,|!!|. . .|(|)|[|]|{|}|(a)|(1)|(The U.S.)|(see p. 3)|[1]|"
    "(Reuters) -|((|))|“(|)”|(The U.S. said so.)|"
    "(He left. She stayed in Seoul for a long time after the war ended. Then he came back.)|"
    "(Kim said he would go back to the village where his family had lived for a very long time)|"
    "[The|Seoul]|{x.|y}|.)|!)|?”|.”|.’|.”!|?”.|.”)|.)”.|“|”|\"|'|’|‘|«|»|—|-|–|_|The|the|"
    "However|He|she|It|it|North|Korea|workers|said|In|in|iPhone|McDonald|don't|can't|isn’t|"
    "worker's|well-known|x_y|123abc|ab12|북한|노동자|Россия|рабочие|Москва.|中国。|！|？|。|‼|⁇|﹒|．|｡|"
    "https://example.com/a.b?c=d|www.nk.org.|kim@example.com|a.b.c|3.|10.|100.|1995|A|B|a|c|x|"
    "Q.|q.|e.|E.|#|*|•|½|①|²|ʼ|′|´|ǅ|ß|Ⅻ|\xa0|\u200b|\u2009|\u3000|\x1c|\x85|\u2028"
)
_PIECES = _PIECE_TEXT.split("|")
_SPACES = [" ", " ", " ", "  ", "\t", "", "", "\r", " \r", "\u00a0", "\u200b", "\x0b", "\u3000"]


def _fuzz_line(rng: random.Random) -> str:
    out = [rng.choice(["(", "[", "“", "", "", ""])]
    for _ in range(rng.randint(0, 25)):
        r = rng.random()
        if r < 0.7:
            out.append(rng.choice(_PIECES))
        elif r < 0.85:
            out.append("".join(rng.choice("abcXYZ.!?;()[]\"'’”“ 19,-…") for _ in range(rng.randint(1, 4))))
        else:
            out.append(chr(rng.randint(0x20, 0x30FF)))
        out.append(rng.choice(_SPACES))
    return "".join(out)


_WORDS = [
    "the",
    "workers",
    "said",
    "that",
    "North",
    "Korea",
    "sent",
    "them",
    "to",
    "Russia",
    "in",
    "May",
    "and",
    "they",
    "were",
    "paid",
    "little",
    "well-known",
    "iPhone",
    "McDonald's",
    "don't",
    "Kim’s",
    "3.5",
    "1,000",
    "No",
    "5",
    "Jan",
    "Sept",
    "U.S",
    "e.g",
    "Mr",
    "Dr",
    "St",
    "He",
    "She",
    "It",
    "However",
    "The",
    "In",
    "But",
]
_ENDS = [
    ".",
    ".",
    "!",
    "?",
    ";",
    "...",
    "…",
    ".”",
    "?”",
    ".’",
    ".)",
    ")",
    "]",
    "”",
    ",",
    ":",
    " .",
    ". )",
    "!!",
]


def _prose_line(rng: random.Random) -> str:
    # news-like: mostly words, a terminal now and then, no opening bracket (the sparse path)
    out = []
    for _ in range(rng.randint(0, 40)):
        out.append(rng.choice(_WORDS) if rng.random() < 0.9 else rng.choice(_PIECES))
        if rng.random() < 0.15:
            out.append(rng.choice(_ENDS))
        out.append(rng.choice(_SPACES[:6] + [" "] * 10))
    return "".join(out).replace("(", "").replace("[", "").replace("{", "")


def fuzz_texts(count: int, seed: int = 14) -> list[str]:
    """Half symbol soup (every branch of syntok), half news-like prose without brackets."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        line = _prose_line if rng.random() < 0.5 else _fuzz_line
        ends = ["\n", "\r\n", "\n\n", "\n \n"]
        texts.append("".join(line(rng) + rng.choice(ends) for _ in range(rng.randint(1, 4))))
    return texts


def _article_texts() -> list[Path]:
    labels = REPO / "labels"
    schema = load_schema(labels)
    return [p for folder in schema.sources.values() for p in sorted((REPO / folder).glob("*.txt"))]


def spans(text: str) -> list[tuple[int, int, str]]:
    return [(u.start, u.end, u.text) for u in split_sentences(text)]


def test_fast_splitter_matches_syntok_on_every_article():
    articles = _article_texts()
    assert len(articles) >= 300
    units = 0
    for path in articles:
        text = path.read_text(encoding="utf-8")
        expected = _reference_spans(text)
        assert spans(text) == expected, path.name
        units += len(expected)
    assert units > 5000


def test_runs_split_on_syntoks_idea_of_space_at_every_code_point():
    everything = "".join(map(chr, range(0x110000)))
    syntok_space = "".join(Tokenizer._spaces.split(everything))
    assert "".join(_SPLIT_RUNS(everything)[0::2]) == syntok_space
    # str.split agrees with syntok except on the characters the fast path looks out for
    python_space = "".join(c for c in everything if c.isspace())
    assert set(python_space) ^ set(syntok_space) == set(_ODD_SPACE.findall(everything))


def test_fast_splitter_matches_syntok_on_fuzz():
    for text in fuzz_texts(800):
        assert spans(text) == _reference_spans(text), repr(text)


@given(st.lists(st.sampled_from(_PIECES + _SPACES + ["\n", "\r\n"]), max_size=60).map("".join))
def test_fast_splitter_matches_syntok_on_generated_text(text):
    assert spans(text) == _reference_spans(text)
