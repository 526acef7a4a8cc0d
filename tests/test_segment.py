from hypothesis import given
from hypothesis import strategies as st

from nkclassify.segment import split_lines, split_sentences


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
