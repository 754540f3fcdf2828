"""Tokenizer, embedded datasets, text files and the train/validation split."""
from importlib import resources

import pytest

from micrograd_gpt.training.data import (
    CharTokenizer, DATASETS, chunk_text, load_dataset, read_text_file, split_lines,
    train_val_split,
)


# ---- tokenizer ---------------------------------------------------------------------------
def test_vocabulary_is_sorted_characters_plus_bos():
    tok = CharTokenizer.from_documents(["emma", "olivia", "ava"])
    assert tok.chars == sorted(set("emmaoliviaava"))
    assert tok.bos == len(tok.chars)
    assert tok.vocab_size == len(tok.chars) + 1


@pytest.mark.parametrize("doc", ["emma", "a", "zoë, the 🐍!", "  spaces\tand\nnewlines "])
def test_round_trip(doc):
    tok = CharTokenizer.from_documents([doc, "xyz"])
    ids = tok.encode_document(doc)
    assert ids[0] == ids[-1] == tok.bos
    assert ids[1:-1] == tok.encode(doc)
    assert len(ids) == len(doc) + 2
    assert tok.decode(ids) == doc
    assert tok.decode(tok.encode(doc)) == doc


def test_unknown_characters_are_listed():
    tok = CharTokenizer.from_documents(["abc"])
    with pytest.raises(ValueError, match=r"2 character\(s\).*'xz'"):
        tok.encode("axbzz")


def test_decode_rejects_bad_ids():
    tok = CharTokenizer.from_documents(["abc"])
    for bad in (-1, tok.vocab_size, 1.0, True):
        with pytest.raises(ValueError, match="not a token id"):
            tok.decode([0, bad])


def test_to_dict_from_dict_round_trip():
    tok = CharTokenizer.from_documents(["hello\nworld", "é"])
    again = CharTokenizer.from_dict(tok.to_dict())
    assert again == tok and again.bos == tok.bos and again.vocab_size == tok.vocab_size
    with pytest.raises(ValueError, match="bos"):
        CharTokenizer.from_dict({"chars": ["a", "b"], "bos": 0})
    with pytest.raises(ValueError, match="once"):
        CharTokenizer(["a", "a"])
    with pytest.raises(ValueError, match="non-empty"):
        CharTokenizer.from_documents([])


# ---- embedded datasets --------------------------------------------------------------------
def test_package_data_is_installed_and_sane():
    folder = resources.files("micrograd_gpt").joinpath("datasets")
    for filename, _ in DATASETS.values():
        assert folder.joinpath(filename).is_file()
    assert folder.joinpath("README.md").is_file()   # the provenance travels with the data

    names = split_lines(load_dataset("names"))
    assert 5000 <= len(names) <= 5300
    assert len(set(names)) == len(names)
    assert set("".join(names)) == set("abcdefghijklmnopqrstuvwxyz")
    assert {"emma", "john", "mary"} <= set(names)

    sonnets = load_dataset("text")
    assert 80_000 < len(sonnets) < 110_000
    assert "gutenberg" not in sonnets.lower()   # only the public-domain text of the poems
    assert sonnets.startswith("THE SONNETS")
    with pytest.raises(ValueError, match="unknown name"):
        load_dataset("nope")


# ---- text files ---------------------------------------------------------------------------
def test_read_text_file_errors(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("\ufeffhéllo\n", encoding="utf-8")
    assert read_text_file(good) == "héllo\n"

    cases = {b"": "empty", b"  \n\n": "empty", b"abc\x00\x01": "binary",
             b"caf\xe9\n": "not valid UTF-8"}
    for i, (raw, message) in enumerate(cases.items()):
        path = tmp_path / f"bad{i}.txt"
        path.write_bytes(raw)
        with pytest.raises(ValueError, match=message):
            read_text_file(path)
    with pytest.raises(ValueError, match="does not exist"):
        read_text_file(tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="directory"):
        read_text_file(tmp_path)


def test_split_lines_and_chunks():
    assert split_lines("a\r\n\n  b c  \n") == ["a", "b c"]
    with pytest.raises(ValueError, match="no non-blank lines"):
        split_lines("\n \n")
    text = "abcdefghij"
    assert chunk_text(text, 4) == ["abcd", "efgh", "ij"]
    assert "".join(chunk_text(text, 3)) == "abcdefghi"    # a 1-character tail is dropped
    with pytest.raises(ValueError, match="chunk_len"):
        chunk_text(text, 0)


def test_split_is_deterministic_and_a_partition():
    docs = [f"doc{i}" for i in range(100)]
    train, val = train_val_split(docs, 0.1, seed=3)
    assert (train, val) == train_val_split(docs, 0.1, seed=3)
    assert train_val_split(docs, 0.1, seed=4) != (train, val)
    assert len(val) == 10 and sorted(train + val) == sorted(docs)
    assert docs == [f"doc{i}" for i in range(100)]   # the input is not shuffled in place
    with pytest.raises(ValueError, match="val_fraction"):
        train_val_split(docs, 1.0)
