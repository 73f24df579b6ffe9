"""Every text rendering of results: conlleval's report, the confusion matrix, an evaluation as `ner eval`
prints it, training's header, epoch and summary lines, gradient-check lines, and the head and foot of
`ner tag --format html` (its HTML pieces live in `ner_cli.html`). Numbers come from `metrics`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np

    from .metrics import Evaluation, Scores
    from .nn.gradcheck import GradCheck
    from .nn.model import ModelSpec
    from .tagger import Tagger
    from .train import Epoch, TrainingRun, TrainResult


def conlleval_report(scores: Scores) -> str:
    """The text conlleval.pl prints for these scores, byte for byte (newline-terminated lines).

    The trailing number of a per-type line is, as in conlleval, the count of *found* (predicted) phrases.
    """
    lines = [
        f"processed {scores.tokens} tokens with {scores.phrases_gold} phrases; "
        f"found: {scores.phrases_found} phrases; correct: {scores.phrases_correct}.\n"
    ]
    if scores.tokens > 0:
        lines.append(
            f"accuracy: {scores.accuracy:6.2f}%; precision: {scores.precision:6.2f}%; "
            f"recall: {scores.recall:6.2f}%; FB1: {scores.f1:6.2f}\n"
        )
    for name in sorted(scores.per_type):
        t = scores.per_type[name]
        lines.append(
            f"{name:>17}: precision: {t.precision:6.2f}%; recall: {t.recall:6.2f}%; "
            f"FB1: {t.f1:6.2f}  {t.predicted}\n"
        )
    return "".join(lines)


def confusion_text(labels: Sequence[str], matrix: np.ndarray) -> str:
    """Token-level confusion matrix as an aligned table: rows gold, columns predicted."""
    width = max([len(lab) for lab in labels] + [len(str(int(matrix.max(initial=0)))), 6]) + 1
    head = "gold \\ pred".ljust(width) + "".join(lab.rjust(width) for lab in labels)
    rows = [lab.ljust(width) + "".join(str(int(v)).rjust(width) for v in row) for lab, row in zip(labels, matrix,
                                                                                                     strict=True)]
    return "\n".join([head, *rows]) + "\n"


def evaluation_text(ev: Evaluation) -> str:
    """What `ner eval` prints: conlleval's report, token-level scores of a binary model's class, the matrix."""
    text = conlleval_report(ev.scores)
    if ev.token_prf is not None:
        p, r, f = ev.token_prf
        text += f"token-level {ev.target}: precision: {p:6.2f}%; recall: {r:6.2f}%; FB1: {f:6.2f}\n"
    return text + "\n" + confusion_text(ev.labels, ev.confusion)


def model_line(spec: ModelSpec, n_labels: int) -> str:
    """The model's shape; x per slot as d + d_case, then the width of every other feature table it has."""
    from .nn.model import lookup_tables

    suffix = "".join(f" + {width}" for name, _, width in lookup_tables(spec) if name not in ("E", "K"))
    return (f"model: {spec.task} {spec.loss}, window {spec.window}, x = {spec.input_size} "
            f"({spec.width} x ({spec.dim} + {spec.case_dim}{suffix})), hidden {spec.hidden} {spec.activation}, "
            f"{n_labels} labels, vocabulary {spec.vocab_size}")


def training_header(run: TrainingRun) -> list[str]:
    """The lines `ner train` prints before the first epoch: data, model, kernel, then `training_notices`."""
    from .nn.compiled import available

    setup = run.trainer.setup
    train, dev = setup.train_facts, setup.dev_facts
    lines = [f"train: {train.path} ({train.sentences} sentences, {train.tokens} tokens, {train.scheme}); "
             f"dev: {dev.path + f' ({dev.sentences} sentences)' if dev else 'none'}",
             model_line(setup.spec, len(setup.labels))]
    if setup.fallback is not None:
        lines[-1] += f" (+ {len(setup.fallback.words):,} untrained fallback words in the saved model)"
    seconds = run.trainer.kernel_seconds
    if run.trainer.compiled:
        first_run = " (compiled on this first run; numba caches them for the next)" if seconds > 2 else ""
        lines.append(f"kernel: numba's compiled loops, ready in {seconds:.1f}s{first_run}")
    else:
        hint = "" if available() else " (pip install 'ner-cli[fast]' for numba's faster loops)"
        lines.append(f"kernel: numpy{hint}")
    return lines + training_notices(run)


def training_notices(run: TrainingRun) -> list[str]:
    """What `ner train` says before the first epoch even with -q: a resumption and warnings."""
    trainer = run.trainer
    lines = []
    if run.resumed:
        lines.append(f"resumed from {run.checkpoint} after epoch {trainer.epoch} "
                     f"(best dev F1 so far {trainer.best_f1:.2f})")
    return lines + [f"warning: {warning}" for warning in trainer.setup.warnings]


def html_head(tagger: Tagger, source: str, model: Path) -> str:
    """The start of `ner tag --format html`'s page: title, the model, a legend of the tagger's entity types."""
    from .html import colours, page_head
    from .tags import entity_types

    return page_head(f"ner: {source if source != '-' else 'standard input'}", colours(entity_types(tagger.out_labels)),
                     f"model {model}")


def html_foot() -> str:
    from .html import page_foot

    return page_foot()


def epoch_line(e: Epoch) -> str:
    dev = f"dev F1 {e.dev.scores.f1:6.2f}" if e.dev else "no dev set"
    return f"epoch {e.epoch:3d}  loss {e.loss:.4f}  {dev}  {e.seconds:6.1f}s{'  *' if e.is_best else ''}"


def training_summary(result: TrainResult) -> list[str]:
    """The lines after the last epoch: what was saved, and the test scores if the config asked for them."""
    where = f"best dev F1 {result.best_f1:.2f} at epoch {result.best_epoch}; " if result.best_f1 is not None else ""
    lines = [f"{where}saved {result.path} ({result.path.stat().st_size / 1e6:.1f} MB) in {result.seconds:.1f}s total"]
    if result.test is not None:
        s = result.test.evaluation.scores
        lines.append(f"test F1 {s.f1:.2f} (precision {s.precision:.2f}, recall {s.recall:.2f})")
    return lines


def interrupted_lines(run: TrainingRun) -> list[str]:
    """What `ner train` says when Ctrl-C stops it: what is on disk, and how to continue."""
    trainer, out, ckpt = run.trainer, run.out, run.checkpoint
    if run.saved_epoch is not None:
        kept = f"best model so far: {out} (epoch {run.saved_epoch}); "
    else:                                                  # W9: an older file at -o is not this run's
        kept = "nothing saved by this run" + (f" ({out} is an older file, left as it was)" if out.exists() else "")
        kept += "; "
    done = f"checkpoint after epoch {trainer.epoch - 1}: {ckpt}" if ckpt.is_file() else "no checkpoint yet"
    lines = [f"interrupted during epoch {trainer.epoch}. {kept}{done}"]
    if ckpt.is_file():
        lines.append("continue with: ner train CONFIG --resume (same config; epochs may be raised with --set)")
    return lines


def gradcheck_header(spec: ModelSpec, n_tokens: int, tolerance: float, compiled: bool = False) -> str:
    return (f"gradcheck: {spec.task} {spec.loss}, {spec.activation}, window {spec.window}, {n_tokens} tokens, "
            f"float64, kernel {'numba' if compiled else 'numpy'}, centred differences, tolerance {tolerance:g}")


def gradcheck_line(r: GradCheck, tolerance: float) -> str:
    return (f"  {r.name:8s} {str(r.shape):>14s}  {r.checked:4d} entries  max relative error {r.max_rel_error:.2e}"
            f"  {'ok' if r.max_rel_error <= tolerance else 'FAIL'}")
