"""The error list: every mistake has one kind, and the counts agree with conlleval's."""

from __future__ import annotations

import numpy as np

from ner_cli.metrics import conlleval_scores
from ner_cli.mistakes import count_mistakes, find_mistakes, sentence_mistakes


def test_each_kind_of_mistake():
    gold = ["B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG", "I-ORG", "O", "B-MISC", "O", "B-LOC"]
    pred = ["B-PER", "O", "O", "B-ORG", "O", "B-ORG", "O", "B-PER", "I-PER", "O", "O"]
    got = sentence_mistakes(gold, pred)
    assert got == [("boundary", ("PER", 0, 2), ("PER", 0, 1)),
                   ("type", ("LOC", 3, 4), ("ORG", 3, 4)),
                   ("boundary", ("ORG", 5, 7), ("ORG", 5, 6)),
                   ("type+boundary", ("MISC", 8, 9), ("PER", 7, 9)),
                   ("missed", ("LOC", 10, 11), None)]
    assert sentence_mistakes(["O", "O"], ["B-LOC", "O"]) == [("spurious", None, ("LOC", 0, 1))]


def test_counts_agree_with_conlleval_on_random_tags():
    rng = np.random.default_rng(0)
    tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    gold = [[tags[i] for i in rng.integers(0, 5, 8)] for _ in range(300)]
    pred = [[tags[i] for i in rng.integers(0, 5, 8)] for _ in range(300)]
    words = [[f"w{i}" for i in range(8)] for _ in range(300)]
    mistakes = find_mistakes(words, gold, pred, lines=list(range(1, 301)))
    s = conlleval_scores(gold, pred)
    gold_wrong = sum(m.gold is not None for m in mistakes)
    pred_wrong = sum(m.pred is not None for m in mistakes)
    assert gold_wrong == s.phrases_gold - s.phrases_correct
    assert pred_wrong == s.phrases_found - s.phrases_correct
    counts = count_mistakes(mistakes)
    assert counts["total"] == len(mistakes) == sum(counts["by_kind"].values())
    assert sum(sum(c.values()) for c in counts["by_type"].values()) == len(mistakes)
    d = mistakes[0].to_dict()
    assert d["kind"] in counts["by_kind"] and d["text"].startswith("w0")
