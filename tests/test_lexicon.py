from nkclassify.analyzer import Analyzer
from nkclassify.lexicon import CUES, cue_matches, cue_tokens


def test_stems_whole_words_phrases_and_symbols():
    found = cue_matches("Defectors fled; the bank banned cashmere, a $3,000 levy and loyalty funds.")
    assert found["defection"] == ["defectors", "fled"]
    assert found["sanctions"] == ["banned"]  # "ban=" is a whole word: not "bank"
    assert "cashmere" not in found.get("finances", [])  # "cash=" is a whole word
    assert {"levy", "loyalty funds", "$"} <= set(found["finances"])


def test_hyphens_count_as_spaces_and_tokens_count_each_hit():
    assert cue_matches("hard-working crews")["favor"] == ["hard working"]
    assert cue_tokens("they fled and sought asylum") == ["@defection", "@defection"]


def test_every_list_is_written_and_the_analyzer_emits_it():
    assert set(CUES) == {
        "repatriation",
        "defection",
        "sanctions",
        "recruitment",
        "finances",
        "against",
        "favor",
    }
    tokens = Analyzer(word_ngrams=0, cues=True)("Nine workers fled to Seoul.")
    assert tokens.count("@defection") == 1 and all(t.startswith("@") for t in tokens)
