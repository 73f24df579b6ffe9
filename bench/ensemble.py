"""What an ensemble of separately trained CRF taggers would score (issue 9's "what would reach the targets"):
every subset of the models, their emission scores and transitions averaged, decoded as `ner eval` decodes.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m bench.ensemble [--lam L] DATA.txt MODEL.npz MODEL.npz ...

Not a feature: an ensemble of K networks costs K trainings, K times the scoring and K embedding tables (each
network fine-tunes its own E). Figures in bench/ABLATIONS.md.

For every model: encode the corpus with its own featurizer/vocab, take the raw emission scores S per chunk
(what Tagger._scored_chunks computes before document consistency). For each subset of models: average S and
(A, A_start, A_end), then decode with the first model's Tagger machinery (document_scores with the averaged
transitions for the marginals, weight lam; then Viterbi with averaged transitions + IOB2 masks), score with
ner_cli.metrics.evaluate in the file's scheme (as ner_cli.evaluate.score_file).
"""
from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

from ner_cli.evaluate import in_scheme
from ner_cli.io.dataset import read_corpus
from ner_cli.metrics import evaluate
from ner_cli.tagger import Tagger


def raw_scores(tagger: Tagger, enc):
    """[(s, e, a, b, S)] per chunk: the network's own scores, as in Tagger._scored_chunks."""
    assert enc.mention_group is None
    return [(s, e, a, b, tagger.scores(enc, a, b, types)) for s, e, a, b, types in tagger._typed_chunks(enc)]


def decode(tagger: Tagger, enc, chunks, lam: float):
    """Flat output ids: consistency (weight lam, tagger's params for the marginals), Viterbi, then the tagger's
    name propagation."""
    old = tagger.consistency
    tagger.consistency = lam
    try:
        if lam and enc.docs is not None and enc.word_keys is not None:
            adjusted = tagger.document_scores(enc, chunks)
        else:
            adjusted = [c[4] for c in chunks]
    finally:
        tagger.consistency = old
    paths = np.empty(len(enc.words), dtype=np.int64)
    for (s, e, a, b, _), S in zip(chunks, adjusted, strict=True):
        paths[a:b] = tagger._paths(S, enc.lengths[s:e])
    paths = tagger._propagated(paths, enc)                          # name propagation, as Tagger.predict_ids
    return paths if tagger._to_out is None else tagger._to_out[paths]


def f1_of(tagger: Tagger, corpus, gold, enc, ids):
    pred = tagger._split(ids, enc.lengths)
    ev = evaluate(gold, pred, tagger.target, written=(corpus.tags_as_written, in_scheme(pred, corpus.scheme)))
    return ev.scores


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lam", type=float, default=None, help="consistency weight (default: first model's meta)")
    ap.add_argument("data")
    ap.add_argument("models", nargs="+")
    args = ap.parse_args()

    corpus = read_corpus(args.data)
    gold = corpus.tags_in("IOB2")
    taggers, encs, chunks = [], [], []
    for path in args.models:
        t0 = time.perf_counter()
        tg = Tagger.load(path)
        t1 = time.perf_counter()
        enc = tg.featurizer.encode(corpus.words, docs=corpus.docs)
        ch = raw_scores(tg, enc)
        t2 = time.perf_counter()
        taggers.append(tg), encs.append(enc), chunks.append(ch)
        print(f"# {path}: load {t1 - t0:.2f}s, encode+score {t2 - t1:.2f}s, meta consistency {tg.consistency}",
              file=sys.stderr)
    base = taggers[0]
    for tg in taggers[1:]:
        assert tg.labels == base.labels and tg.scheme == base.scheme and tg.out_labels == base.out_labels
        assert tg.decoding == base.decoding and tg.spec.loss == "crf"
    for ch in chunks[1:]:
        assert [c[:4] for c in ch] == [c[:4] for c in chunks[0]]
    lam = base.consistency if args.lam is None else args.lam

    # 1) check: each single model, its own meta consistency = Tagger.predict (= ner eval)
    for tg, enc, ch, path in zip(taggers, encs, chunks, args.models, strict=True):
        t0 = time.perf_counter()
        ref = tg.predict_ids(enc)
        t1 = time.perf_counter()
        mine = decode(tg, enc, ch, tg.consistency)
        same = bool((ref == mine).all())
        print(f"# check {Path(path).name}: own lam={tg.consistency} identical to predict_ids: {same}; "
              f"F1 {f1_of(tg, corpus, gold, enc, mine).f1:.4f} (predict_ids {t1 - t0:.2f}s)", file=sys.stderr)
        assert same

    names = [Path(p).stem for p in args.models]
    print(f"data={args.data} lam={lam}")
    print(f"{'models':40s} {'F1 lam':>9s} {'F1 no-cons':>10s}   P/R (lam)")
    for k in range(1, len(taggers) + 1):
        for subset in itertools.combinations(range(len(taggers)), k):
            first = taggers[subset[0]]
            ens = Tagger(dict(first.params), first.meta)   # its featurizer unused; params: averaged CRF below
            for name in ("A", "A_start", "A_end"):
                ens.params[name] = np.mean([taggers[i].params[name] for i in subset], axis=0).astype(
                    first.params[name].dtype)
            avg = [(*c[:4], np.mean([chunks[i][j][4] for i in subset], axis=0).astype(c[4].dtype))
                   for j, c in enumerate(chunks[subset[0]])]
            enc = encs[subset[0]]                          # docs/word_keys/lengths for consistency groups
            sc = f1_of(ens, corpus, gold, enc, decode(ens, enc, avg, lam))
            s0 = f1_of(ens, corpus, gold, enc, decode(ens, enc, avg, 0.0))
            label = "+".join(names[i] for i in subset)
            print(f"{label:40s} {sc.f1:9.4f} {s0.f1:10.4f}   {sc.precision:.2f}/{sc.recall:.2f}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
