import json

import pytest

from nkclassify.errors import LabelError
from nkclassify.schema import load_schema


def test_shipped_schema_loads_and_the_package_copy_is_the_same():
    from pathlib import Path

    from nkclassify.store import resource_path

    labels = Path(__file__).resolve().parent.parent / "labels"
    schema = load_schema(labels)
    assert schema.topic_names == ["repatriation", "defection", "sanctions", "recruitment", "finances"]
    assert schema.stance_names == ["against", "favor", "none"] and schema.polar == ("favor", "against")
    assert json.loads(resource_path("schema.json").read_text()) == json.loads(
        (labels / "schema.json").read_text()
    )


def test_a_new_topic_needs_no_code(tiny_corpus):
    path = tiny_corpus / "schema.json"
    data = json.loads(path.read_text())
    data["topics"]["wages"] = "Pay levels."
    path.write_text(json.dumps(data))
    assert "wages" in load_schema(tiny_corpus).topic_names


def test_missing_schema(tmp_path):
    with pytest.raises(LabelError, match="schema.json: schema file not found"):
        load_schema(tmp_path)


def test_malformed_schema_names_the_line(tiny_corpus):
    (tiny_corpus / "schema.json").write_text('{\n  "format_version": 1,\n  "topics": {,\n}')
    with pytest.raises(LabelError, match=r"schema.json:3: malformed JSON"):
        load_schema(tiny_corpus)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"format_version": 9}, "format_version 9 is not supported"),
        ({"topics": {}}, "topics must be a non-empty object"),
        ({"stance": {"labels": {"a": "b"}}}, "'stance' must hold a 'target'"),
    ],
)
def test_invalid_schema(tiny_corpus, change, message):
    path = tiny_corpus / "schema.json"
    data = json.loads(path.read_text())
    data.update(change)
    path.write_text(json.dumps(data))
    with pytest.raises(LabelError, match=message):
        load_schema(tiny_corpus)
