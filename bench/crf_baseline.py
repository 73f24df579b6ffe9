"""Words-only linear-chain CRF baseline (sklearn-crfsuite) with the classic tutorial features.

Features per token: lowercased word, 3- and 2-letter suffixes, 3-letter prefix, word shape
(``Xxxx``, ``dd-dd``), isupper / istitle / isdigit, the same for the words at offsets -2..+2
(prefixed ``-2:``, ``-1:``, ``+1:``, ``+2:``) and BOS / EOS markers. Training: L-BFGS with
c1 = c2 = 0.1, 100 iterations, all possible transitions.

``sklearn_crfsuite`` is imported inside the functions, so ``import bench.crf_baseline`` is cheap.

Run: ``.venv/bin/python -m bench.crf_baseline [DATA_DIR]`` (default ``../shared/data/conll2003``
relative to the repository root; it must hold ``train.txt``, ``dev.txt`` and ``test.txt``).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "conll2003"
OFFSETS = (-2, -1, 1, 2)
C1 = 0.1
C2 = 0.1
MAX_ITERATIONS = 100

Tagged = tuple[list[str], list[str]]


def word_shape(word: str, max_run: int = 4) -> str:
    """Shape of `word`: upper -> X, lower -> x, digit -> d, other chars kept; runs capped at `max_run`.

    Examples: ``Peter`` -> ``Xxxxx``, ``1996-08-22`` -> ``dddd-dd-dd``, ``U.S.`` -> ``X.X.``.
    """
    out: list[str] = []
    run = 0
    for ch in word:
        c = "X" if ch.isupper() else "x" if ch.islower() else "d" if ch.isdigit() else ch
        run = run + 1 if out and out[-1] == c else 1
        if run <= max_run:
            out.append(c)
    return "".join(out)


def word_features(word: str, prefix: str = "") -> dict[str, Any]:
    """The tutorial features of one word, keys prefixed with `prefix` (e.g. ``"-1:"``)."""
    return {
        f"{prefix}word.lower": word.lower(),
        f"{prefix}suffix3": word[-3:],
        f"{prefix}suffix2": word[-2:],
        f"{prefix}prefix3": word[:3],
        f"{prefix}shape": word_shape(word),
        f"{prefix}isupper": word.isupper(),
        f"{prefix}istitle": word.istitle(),
        f"{prefix}isdigit": word.isdigit(),
    }


def sent_features(words: Sequence[str]) -> list[dict[str, Any]]:
    """One feature dict per token: its own features, those of offsets -2..+2, and BOS / EOS markers."""
    n = len(words)
    feats: list[dict[str, Any]] = []
    for i, word in enumerate(words):
        f: dict[str, Any] = {"bias": 1.0, **word_features(word)}
        for off in OFFSETS:
            j = i + off
            if 0 <= j < n:
                f.update(word_features(words[j], f"{off:+d}:"))
        if i == 0:
            f["BOS"] = True
        if i == n - 1:
            f["EOS"] = True
        feats.append(f)
    return feats


def train_crf(sentences: Sequence[Tagged]) -> Any:
    """Train a CRF on ``(words, tags)`` pairs; returns the fitted ``sklearn_crfsuite.CRF``."""
    import sklearn_crfsuite

    crf = sklearn_crfsuite.CRF(
        algorithm="lbfgs",
        c1=C1,
        c2=C2,
        max_iterations=MAX_ITERATIONS,
        all_possible_transitions=True,
    )
    crf.fit([sent_features(w) for w, _ in sentences], [list(t) for _, t in sentences])
    return crf


def tag_crf(model: Any, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
    """Tag word lists with a trained CRF (feature extraction included); one tag list per sentence."""
    if not sentences:
        return []
    return [list(tags) for tags in model.predict([sent_features(w) for w in sentences])]


class CrfTagger:
    """A trained CRF with a tagger's `predict`, so `ner_cli.evaluate.score_file` scores it like a model."""

    target = None

    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, sentences: Sequence[Sequence[str]], docs: Sequence[int] | None = None) -> list[list[str]]:
        return tag_crf(self.model, sentences)                     # sentence by sentence: documents unused


def throughput(model: Any, sentences: Sequence[Sequence[str]], repeats: int = 3) -> float:
    """Tagging speed in tokens/s (features + tagging), best of `repeats` runs."""
    n_tokens = sum(len(w) for w in sentences)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        tag_crf(model, sentences)
        best = min(best, time.perf_counter() - t0)
    return n_tokens / best


def load(path: Path) -> list[Tagged]:
    """Read a CoNLL file into ``(words, tags)`` pairs with ``ner_cli.io.conll.read_conll``."""
    from ner_cli.io.conll import read_conll

    return [(list(s.words), list(s.tags)) for s in read_conll(path)]


def evaluate(model: Any, path: Path) -> Any:
    """conlleval scores (``.precision``, ``.recall``, ``.f1`` in %) of `model` on a CoNLL file."""
    from ner_cli.evaluate import score_file

    return score_file(CrfTagger(model), path).evaluation.scores


def main(argv: Sequence[str] | None = None) -> None:
    """Train on train.txt, report training time, dev / test P/R/F1 and tagging throughput."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args(argv)
    train, dev, test = (load(args.data_dir / f"{name}.txt") for name in ("train", "dev", "test"))
    print(f"train {len(train)} sentences, dev {len(dev)}, test {len(test)}")
    t0 = time.perf_counter()
    model = train_crf(train)
    print(f"training seconds: {time.perf_counter() - t0:.1f}")
    for name in ("dev", "test"):
        s = evaluate(model, args.data_dir / f"{name}.txt")
        print(f"{name}: precision {s.precision:.2f}  recall {s.recall:.2f}  F1 {s.f1:.2f}")
    speed = throughput(model, [w for w, _ in test])
    print(f"tagging throughput (features + tagging, best of 3, test): {speed:,.0f} tokens/s")


if __name__ == "__main__":
    main()
