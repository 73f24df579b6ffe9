"""`ner report`: one self-contained HTML page about a model on a labelled file.

Sections: learning curves (from the history saved in the model file), per-type precision/recall/F1, a token
confusion heatmap, calibration of the entity scores (a reliability plot and table), and the error list with
gold and predicted spans highlighted. Plots are drawn by matplotlib (the optional `plots` extra) and embedded
as base64 PNG, so the page needs no other file and no network.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .confidence import CalibrationBin
from .errors import NerError
from .html import GOLD, PRED, colours, mark, page_foot, page_head, table
from .metrics import Evaluation
from .mistakes import KINDS, Mistake, count_mistakes

MAX_ERRORS = 300          # rows of the error list (the counts above it cover all of them)


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise NerError("ner report draws its plots with matplotlib, which is not installed",
                       hint="pip install 'ner-cli[plots]'") from None
    return plt


def _img(fig, alt: str) -> str:
    """The figure as an embedded PNG <img>."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">\n'


def learning_curves(history: Sequence[dict[str, Any]]) -> str:
    """Training loss and dev F1 (overall and per type) against the epoch."""
    plt = _pyplot()
    epochs = [h["epoch"] for h in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax1.plot(epochs, [h["loss"] for h in history], marker="o", color="#444")
    ax1.set(title="training loss", xlabel="epoch", ylabel="mean loss per token")
    if any(h.get("dev_f1") is not None for h in history):
        ax2.plot(epochs, [h.get("dev_f1") for h in history], marker="o", color="#000", label="all", linewidth=2)
        types = sorted({t for h in history for t in (h.get("dev_f1_per_type") or {})})
        palette = colours(types)
        for t in types:
            ax2.plot(epochs, [(h.get("dev_f1_per_type") or {}).get(t) for h in history], marker=".",
                     color=palette[t], label=t)
        ax2.legend(fontsize=8)
    ax2.set(title="dev F1", xlabel="epoch", ylabel="F1 (%)")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    return _img(fig, "learning curves")


def confusion_heatmap(labels: Sequence[str], matrix: np.ndarray) -> str:
    """Token confusion matrix, each row coloured by the fraction of its gold tag, counts written in."""
    plt = _pyplot()
    m = np.asarray(matrix, dtype=float)
    frac = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    n = len(labels)
    fig, ax = plt.subplots(figsize=(1.0 + 0.62 * n, 0.8 + 0.55 * n))
    im = ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), labels, rotation=45, ha="right")
    ax.set_yticks(range(n), labels)
    ax.set(xlabel="predicted", ylabel="gold", title="token confusion (row-normalised; counts)")
    for i in range(n):
        for j in range(n):
            if m[i, j]:
                ax.text(j, i, f"{int(m[i, j])}", ha="center", va="center", fontsize=7,
                        color="white" if frac[i, j] > 0.6 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return _img(fig, "confusion matrix")


def reliability_plot(bins: Sequence[CalibrationBin], ece: float) -> str:
    """Fraction correct against mean score per bin (the diagonal is perfect calibration), counts below."""
    plt = _pyplot()
    fig, (ax, axc) = plt.subplots(2, 1, figsize=(4.8, 5.2), height_ratios=[3, 1], sharex=True)
    ax.plot([0, 1], [0, 1], linestyle="--", color="#999", label="perfect")
    full = [b for b in bins if b.count]
    ax.plot([b.mean_score for b in full], [b.accuracy for b in full], marker="o", color="#1565c0",
            label=f"entities (ECE {ece:.3f})")
    ax.set(ylabel="fraction correct", title="calibration of entity scores", xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    axc.bar([(b.low + b.high) / 2 for b in bins], [b.count for b in bins], width=0.09, color="#90a4ae")
    axc.set(xlabel="entity score", ylabel="entities")
    axc.set_yscale("log")
    return _img(fig, "reliability diagram")


def _marked_sentence(words: Sequence[str], span: tuple[str, int, int] | None, palette: dict[str, str],
                     cls: str) -> str:
    if span is None:
        return '<span class="muted">(none)</span>'
    label, a, b = span
    left = html.escape(" ".join(words[:a]))
    right = html.escape(" ".join(words[b:]))
    middle = mark(" ".join(words[a:b]), label, palette.get(label, "#ddd"), cls=cls)
    return " ".join(p for p in (left, middle, right) if p)


def _f(x: float) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2f}"


def build_report(*, model_name: str, data_name: str, meta: dict[str, Any], ev: Evaluation,
                 mistakes: Sequence[Mistake], bins: Sequence[CalibrationBin], ece: float) -> str:
    """The whole page as a string."""
    s = ev.scores
    types = sorted(s.per_type)
    palette = colours(types)
    parts = [page_head(f"ner report: {model_name} on {data_name}", palette,
                       f"{s.tokens} tokens, {s.phrases_gold} gold entities, {s.phrases_found} found, "
                       f"{s.phrases_correct} correct: precision {s.precision:.2f}, recall {s.recall:.2f}, "
                       f"F1 {s.f1:.2f} (conlleval)")]
    history = meta.get("history") or []
    parts.append("<h2>Learning curves</h2>\n")
    parts.append(learning_curves(history) if history else
                 '<p class="muted">this model file has no training history</p>\n')
    parts.append("<h2>Per type</h2>\n")
    rows = [(t, _f(v.precision), _f(v.recall), _f(v.f1), v.support, v.predicted, v.correct)
            for t, v in sorted(s.per_type.items())]
    rows.append(("all", _f(s.precision), _f(s.recall), _f(s.f1), s.phrases_gold, s.phrases_found, s.phrases_correct))
    parts.append(table(("type", "precision", "recall", "F1", "gold", "found", "correct"), rows))
    parts.append("<h2>Confusion</h2>\n" + confusion_heatmap(ev.labels, ev.confusion))
    parts.append("<h2>Calibration</h2>\n")
    parts.append('<p class="muted">Each predicted entity has a probability (its span marginal). Grouped by '
                 'that score, how many of them are correct?</p>\n')
    parts.append(reliability_plot(bins, ece))
    parts.append(table(("score", "entities", "mean score", "fraction correct"),
                       [(f"{b.low:.1f}–{b.high:.1f}", b.count, _f(b.mean_score), _f(b.accuracy)) for b in bins]))
    counts = count_mistakes(mistakes)
    parts.append("<h2>Errors</h2>\n")
    parts.append(table(("type", *KINDS, "total"),
                       [(t, *[c[k] for k in KINDS], sum(c.values())) for t, c in counts["by_type"].items()]
                       + [("all", *[counts["by_kind"][k] for k in KINDS], counts["total"])]))
    parts.append(f'<p class="muted">Gold spans have a solid <span style="color:{GOLD}">green</span> outline, '
                 f'predicted ones a dashed <span style="color:{PRED}">red</span> one.'
                 + (f" The first {MAX_ERRORS} of {len(mistakes)} are listed." if len(mistakes) > MAX_ERRORS else "")
                 + "</p>\n")
    rows = [(m.kind, m.line if m.line is not None else m.sentence + 1,
             _marked_sentence(m.words, m.gold, palette, "gold"), _marked_sentence(m.words, m.pred, palette, "pred"))
            for m in mistakes[:MAX_ERRORS]]
    parts.append(table(("kind", "line", "gold", "predicted"), rows, raw_columns=(2, 3)))
    parts.append(page_foot())
    return "".join(parts)


def make_report(tagger: Any, model: Path, data: str, *, token_col: int = 0, tag_col: int = -1,
                repair: bool = False) -> tuple[str, str]:
    """Tag a labelled file with scores and build the page: (html, a one-line summary for stderr)."""
    from .confidence import calibration
    from .evaluate import in_scheme
    from .io.dataset import read_corpus
    from .metrics import evaluate
    from .mistakes import find_mistakes
    from .tags import get_entities

    _pyplot()                                                    # fail early without matplotlib
    corpus = read_corpus(data, token_col=token_col, tag_col=tag_col, repair=repair)
    gold = corpus.tags_in("IOB2")
    pred, entities = tagger.predict_scored(corpus.words, corpus.docs)       # documents for the document features
    ev = evaluate(gold, pred, tagger.target, written=(corpus.tags_as_written, in_scheme(pred, corpus.scheme)))
    mistakes = find_mistakes(corpus.words, gold, pred, corpus.lines)
    scores, correct = [], []
    for g, ents in zip(gold, entities, strict=True):
        gold_set = {tuple(e) for e in get_entities(g)}
        for label, a, b, p in ents:
            scores.append(p)
            correct.append((label, a, b) in gold_set)
    bins, ece = calibration(np.asarray(scores, dtype=float), np.asarray(correct, dtype=bool))
    page = build_report(model_name=Path(model).name, data_name=Path(data).name, meta=tagger.meta, ev=ev,
                        mistakes=mistakes, bins=bins, ece=ece)
    return page, f"F1 {ev.scores.f1:.2f}, {len(mistakes)} mistakes, calibration error (ECE) {ece:.3f}"
