import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from nkclassify.analyzer import Analyzer

TEXTS = [
    "Défectors FLED — the “camp” in Tumen; Hwang Jŏng-il said: no. ab a",
    "탈북자 \x07 tab\tand  spaces\r\nnew line",
    "",
    "x",
]


@pytest.mark.parametrize("text", TEXTS)
def test_word_and_char_tokens_match_scikit_learn(text):
    words = TfidfVectorizer(ngram_range=(1, 2), strip_accents="unicode").build_analyzer()
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), strip_accents="unicode").build_analyzer()
    assert sorted(Analyzer(word_ngrams=2)(text)) == sorted(words(text))
    assert sorted(Analyzer(word_ngrams=0, char_ngrams=(3, 5))(text)) == sorted(chars(text))


def test_prefixes_and_stop_words():
    tokens = Analyzer(word_ngrams=2, prefix=5, stop_words=frozenset({"the", "to"}))(
        "They tried to defect to the South"
    )
    assert "~defec" in tokens  # "defect" is longer than 5 letters
    assert "to" not in tokens and "the" not in tokens and "to defect" in tokens
    assert "~defec" in Analyzer(prefix=5)("defected") and not any(
        t.startswith("~") for t in Analyzer(prefix=5)("South")
    )


def test_round_trips_through_a_dict():
    analyzer = Analyzer(word_ngrams=2, prefix=5, cues=True, char_ngrams=(3, 5), stop_words=frozenset({"a"}))
    assert Analyzer.from_dict(analyzer.to_dict()) == analyzer


def _reference_strip(text: str) -> str:
    import unicodedata

    text = text.lower()
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FFF), max_size=40))
def test_accent_stripping_by_table_equals_whole_string_decomposition(text):
    from nkclassify.analyzer import preprocess

    assert preprocess(text) == _reference_strip(text)
