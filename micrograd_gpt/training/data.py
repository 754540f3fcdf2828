"""Data for training: a character tokenizer, the embedded datasets, text files, splits.

The story, in order:

1. Get some text: an embedded dataset (`load_dataset("names")`, `load_dataset("text")`)
   or any UTF-8 file (`read_text_file(path)`).
2. Cut it into *documents*: one per line (`split_lines`, e.g. one name per document), or
   fixed-size windows of a continuous text (`chunk_text`, e.g. the sonnets).
3. Build a `CharTokenizer` from the documents: every distinct character gets an id, plus one
   special token, BOS ("beginning of sequence"), that marks where a document starts and ends.
4. Split the documents into training and validation sets with a seeded shuffle
   (`train_val_split`), so the same seed always gives the same split.

As in makemore and microgpt, a document of n characters trains as n + 2 tokens,
`[BOS] + chars + [BOS]`: the first BOS gives the model something to predict the first
character from, and the last one teaches it when a name is finished.
"""
from __future__ import annotations

import hashlib
import math
import os
import random
from dataclasses import dataclass
from importlib import resources

from ..common.checks import check_bool, check_int, check_number, check_str
from ..common.files import read_text
from .settings import sequence_length

__all__ = [
    "CharTokenizer", "DATASETS", "load_dataset", "read_text_file", "split_lines",
    "chunk_text", "train_val_split", "PreparedData", "prepare_documents", "prepare_data",
    "bigram_loss",
]

# name -> (file inside micrograd_gpt/datasets/, how it is cut into documents)
DATASETS = {
    "names": ("names.txt", "lines"),     # 5,163 first names, one per line
    "text": ("sonnets.txt", "chunks"),   # Shakespeare's sonnets, a continuous text
}


class CharTokenizer:
    """Maps characters to integer ids and back; one extra id is the BOS token.

    The ids of the characters are their positions in sorted order; BOS comes last, so
    `vocab_size = len(chars) + 1` and `bos = len(chars)` (the layout microgpt uses).

    >>> tok = CharTokenizer.from_documents(["emma", "ava"])
    >>> tok.chars, tok.bos, tok.vocab_size
    (['a', 'e', 'm', 'v'], 4, 5)
    >>> tok.encode_document("ava")        # [BOS] a v a [BOS]
    [4, 0, 3, 0, 4]
    >>> tok.decode([4, 0, 3, 0, 4])       # BOS has no character: it is dropped
    'ava'
    """

    def __init__(self, chars):
        if isinstance(chars, (str, bytes)) or not hasattr(chars, "__iter__"):
            raise ValueError(f"chars: must be a list of single characters, got "
                             f"{type(chars).__name__}")
        chars = list(chars)
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise ValueError(f"chars: every entry must be one character, got {c!r}")
        if len(set(chars)) != len(chars):
            raise ValueError("chars: every character may appear only once")
        self.chars = sorted(chars)
        self._id_of = {c: i for i, c in enumerate(self.chars)}
        self.bos = len(self.chars)
        self.vocab_size = len(self.chars) + 1

    @classmethod
    def from_documents(cls, documents):
        """A tokenizer whose vocabulary is every character that occurs in `documents`."""
        documents = list(documents)
        if not documents or not any(documents):
            raise ValueError("documents: need at least one non-empty document")
        return cls(set("".join(documents)))

    def encode(self, text):
        """The ids of the characters of `text` (no BOS). Unknown characters raise a
        ValueError that lists all of them."""
        check_str("text", text, empty_ok=True)
        id_of = self._id_of
        try:
            return [id_of[c] for c in text]
        except KeyError:
            unknown = sorted({c for c in text if c not in id_of})
            raise ValueError(
                f"text contains {len(unknown)} character(s) not in the vocabulary: "
                f"{''.join(unknown)!r} (the vocabulary is {''.join(self.chars)!r})") from None

    def encode_document(self, document):
        """A document as the model trains on it: `[BOS] + encode(document) + [BOS]`."""
        return [self.bos] + self.encode(document) + [self.bos]

    def decode(self, ids):
        """The text of a list of ids. BOS ids are dropped (BOS marks a boundary, it has no
        character); an id outside 0..vocab_size-1 raises a ValueError."""
        out = []
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < self.vocab_size:
                raise ValueError(f"ids: {i!r} is not a token id (allowed 0..{self.vocab_size - 1})")
            if i != self.bos:
                out.append(self.chars[i])
        return "".join(out)

    def to_dict(self):
        """A JSON-ready description, for checkpoints: `{"chars": [...], "bos": id}`."""
        return {"chars": list(self.chars), "bos": self.bos}

    @classmethod
    def from_dict(cls, d):
        """The inverse of `to_dict` (checks that the BOS id is where this class puts it)."""
        if not isinstance(d, dict) or not isinstance(d.get("chars"), list):
            raise ValueError("tokenizer: expected a dict with a list 'chars'")
        tok = cls(d["chars"])
        if d.get("bos", tok.bos) != tok.bos:
            raise ValueError(f"tokenizer: bos must be {tok.bos} (after the {len(tok.chars)} "
                             f"characters), got {d.get('bos')!r}")
        return tok

    def __repr__(self):
        return f"CharTokenizer(vocab_size={self.vocab_size}, chars={''.join(self.chars)!r})"

    def __eq__(self, other):
        return isinstance(other, CharTokenizer) and self.chars == other.chars

    __hash__ = None  # mutable-looking value object: equal by content, not hashable


# -------------------------------------------------------------------------------------
# Getting text
# -------------------------------------------------------------------------------------
def load_dataset(name):
    """The text of an embedded dataset (`"names"` or `"text"`), read from the package data
    (micrograd_gpt/datasets/, installed with the package). See datasets/README.md for the
    sources; both are in the public domain."""
    if name not in DATASETS:
        raise ValueError(f"dataset: unknown name {name!r} (choose from {', '.join(DATASETS)})")
    filename, _ = DATASETS[name]
    return resources.files("micrograd_gpt").joinpath("datasets", filename).read_text("utf-8")


def read_text_file(path):
    """The contents of a UTF-8 text file, or a ValueError that says what is wrong with it
    (missing, a folder or a device, empty, binary, or not UTF-8) instead of a traceback
    from deep inside."""
    text = read_text(path, "data file")
    if not text.strip():
        raise ValueError(f"data file {str(path)!r} is empty (it needs some text)")
    return text


# -------------------------------------------------------------------------------------
# Text -> documents
# -------------------------------------------------------------------------------------
def split_lines(text):
    """One document per non-blank line, surrounding whitespace removed.

    >>> split_lines("emma\\n\\n  olivia \\r\\nava\\n")
    ['emma', 'olivia', 'ava']
    """
    check_str("text", text, empty_ok=True)
    docs = [line.strip() for line in text.splitlines()]
    docs = [d for d in docs if d]
    if not docs:
        raise ValueError("text: no non-blank lines, so there are no documents")
    return docs


def chunk_text(text, chunk_len):
    """Cut a continuous text into consecutive pieces of `chunk_len` characters (the last,
    shorter piece is kept if it has at least 2 characters).

    With `chunk_len = max_seq_len`, a piece trains as `[BOS] + piece`: max_seq_len tokens
    in, max_seq_len predictions. Unlike a line, a piece has no closing BOS, because the
    text does not end there.

    >>> chunk_text("abcdefg", 3)
    ['abc', 'def']
    """
    check_int("chunk_len", chunk_len, 1)
    pieces = [text[i:i + chunk_len] for i in range(0, len(text), chunk_len)]
    pieces = [p for p in pieces if len(p) >= 2]
    if not pieces:
        raise ValueError(f"text: too short to cut into pieces of {chunk_len} characters")
    return pieces


def train_val_split(documents, val_fraction=0.1, seed=0):
    """Shuffle a copy of `documents` with `random.Random(seed)` and cut it in two:
    `(train, val)`, with `round(val_fraction * n)` documents in val (at least 1 when
    0 < val_fraction). The same seed always gives the same split."""
    check_number("val_fraction", val_fraction, 0, 1, high_open=True)
    docs = list(documents)
    if len(docs) < 2 and val_fraction > 0:
        raise ValueError(f"documents: need at least 2 to split into train and validation, "
                         f"got {len(docs)}")
    random.Random(seed).shuffle(docs)
    n_val = max(1, round(val_fraction * len(docs))) if val_fraction > 0 else 0
    return docs[n_val:], docs[:n_val]


# -------------------------------------------------------------------------------------
# All of it at once: a source -> encoded training and validation documents
# -------------------------------------------------------------------------------------
@dataclass
class PreparedData:
    """The token lists a run trains and validates on."""

    description: str        # what the data is, for the log
    tokenizer: CharTokenizer
    train: list             # [num_train][<= max_seq_len + 1] token ids
    val: list               # [num_val][...]
    text_mode: bool
    fingerprint: str        # sha256 of the text: a resumed run checks it is the same data
    num_documents: int
    num_cropped: int        # documents cut to max_seq_len + 1 tokens


def prepare_documents(source, max_seq_len, text_mode=False, val_fraction=0.1, seed=0):
    """Read `source` ("names", "text" or a file path), cut it into documents (lines, or
    pieces of max_seq_len characters when `text_mode`), build the tokenizer, split (by
    `seed`) and encode. Documents longer than max_seq_len + 1 tokens are cropped: a model
    has only max_seq_len positions to predict from."""
    check_int("max_seq_len", max_seq_len, 1)
    check_bool("text_mode", text_mode)
    if not isinstance(source, (str, os.PathLike)) or not str(source):
        raise ValueError(f"source: must be 'names', 'text' or a file path, got {source!r}")
    if source in DATASETS:
        text, description = load_dataset(source), f"{source} (embedded: {DATASETS[source][0]})"
    else:
        text, description = read_text_file(source), str(source)
    documents = chunk_text(text, max_seq_len) if text_mode else split_lines(text)
    tokenizer = CharTokenizer.from_documents(documents)
    train_docs, val_docs = train_val_split(documents, val_fraction, seed)
    if text_mode:
        # a piece of a longer text: BOS in front, no closing BOS (the text goes on)
        encode = lambda doc: [tokenizer.bos] + tokenizer.encode(doc)  # noqa: E731
    else:
        encode = tokenizer.encode_document
    limit = max_seq_len + 1
    train_ids = [encode(doc) for doc in train_docs]
    val_ids = [encode(doc) for doc in val_docs]
    return PreparedData(
        description=description, tokenizer=tokenizer,
        train=[ids[:limit] for ids in train_ids], val=[ids[:limit] for ids in val_ids],
        text_mode=text_mode, fingerprint=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        num_documents=len(documents),
        num_cropped=sum(len(ids) > limit for ids in train_ids + val_ids))


def prepare_data(config):
    """The documents of the run `config` (a TrainConfig) describes, read, split (by its
    seed) and encoded: a `PreparedData`."""
    return prepare_documents(config.data, sequence_length(config),
                             text_mode=config.uses_text_mode(),
                             val_fraction=config.val_fraction, seed=config.seed)


# -------------------------------------------------------------------------------------
# The simplest model worth beating
# -------------------------------------------------------------------------------------
def bigram_loss(train, documents, vocab_size, smoothing=1.0):
    """The loss of counting pairs: mean -ln p(next token | this token) over `documents`,
    with p estimated from how often each token follows each other one in `train` (lists
    of token ids), plus `smoothing` for every pair so that none is impossible:

        p(b | a) = (count(a, b) + smoothing) / (count(a, ·) + smoothing · vocab_size)

    One token of context and no learning: a model that cannot beat this number uses no
    more than the previous character.
    """
    check_int("vocab_size", vocab_size, 1)
    check_number("smoothing", smoothing, 0, low_open=True)
    counts = [[0] * vocab_size for _ in range(vocab_size)]
    for doc in train:
        for a, b in zip(doc, doc[1:]):
            counts[a][b] += 1
    totals = [sum(row) for row in counts]
    losses = [-math.log((counts[a][b] + smoothing) / (totals[a] + smoothing * vocab_size))
              for doc in documents for a, b in zip(doc, doc[1:])]
    if not losses:
        raise ValueError("documents: need at least one document of 2 or more tokens")
    return math.fsum(losses) / len(losses)
