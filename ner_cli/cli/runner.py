"""What `ner train` and `ner gradcheck` do around the library: progress on stderr, saving, summaries."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..config import Config, check_output
from ..errors import DataError
from ..train import Epoch, Step, Trainer, prepare, read_data

Echo = Callable[..., None]


def run_training(cfg: Config, *, quiet: bool = False, resume: bool = False, echo: Echo = print) -> Path:
    """Train, saving the model each time dev F1 improves and a checkpoint after every epoch; one line per
    epoch on stderr. Ctrl-C stops cleanly: the best model so far and the last checkpoint stay on disk."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ..io.checkpoint import checkpoint_path, load_checkpoint, save_checkpoint

    t0 = time.perf_counter()
    check_output(cfg)                                     # before any work: refuse a place that can't be written
    train, dev = read_data(cfg)
    trainer = Trainer(cfg, prepare(cfg, train, dev))
    out = Path(cfg.output.path)
    ckpt = checkpoint_path(out)
    spec = trainer.setup.spec
    suffix = "".join(f" + {d}" for d in (spec.suffix_dim, spec.doc_dim, spec.gaz_dim, spec.char_dim) if d)
    echo(f"train: {train.path} ({len(train.words)} sentences, {train.n_tokens} tokens, {train.scheme}); "
         f"dev: {dev.path + f' ({len(dev.words)} sentences)' if dev else 'none'}")
    echo(f"model: {spec.task} {spec.loss}, window {spec.window}, x = {spec.input_size} "
         f"({spec.width} x ({spec.dim} + {spec.case_dim}{suffix})), hidden {spec.hidden} {spec.activation}, "
         f"{len(trainer.setup.labels)} labels, vocabulary {spec.vocab_size}")
    if resume:
        load_checkpoint(ckpt, trainer)
        echo(f"resumed from {ckpt} after epoch {trainer.epoch} (best dev F1 so far {trainer.best_f1:.2f})")
    for warning in trainer.setup.warnings:
        echo(f"warning: {warning}")
    columns = [TextColumn("epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("loss {task.fields[loss]:.4f}"), TimeRemainingColumn()]
    try:
        with Progress(*columns, console=Console(stderr=True), transient=True, disable=quiet) as bar:
            while not trainer.should_stop():
                task = bar.add_task("train", total=None, epoch=trainer.epoch + 1, loss=0.0)
                running = 0.0
                for event in trainer.run_epoch():
                    if isinstance(event, Step):
                        running = event.loss if event.batch == 1 else 0.98 * running + 0.02 * event.loss
                        if event.batch % 20 == 0 or event.batch == event.n_batches:
                            bar.update(task, completed=event.batch, total=event.n_batches, loss=running)
                        continue
                    bar.remove_task(task)
                    if event.is_best:
                        save_tagger(out, event)
                    save_checkpoint(ckpt, trainer)
                    if not quiet:
                        echo(epoch_line(event))
    except KeyboardInterrupt:
        kept = f"best model so far: {out} (epoch {trainer.best_epoch}); " if out.is_file() else ""
        done = f"checkpoint after epoch {trainer.epoch - 1}: {ckpt}" if ckpt.is_file() else "no checkpoint yet"
        echo(f"interrupted during epoch {trainer.epoch}. {kept}{done}")
        if ckpt.is_file():
            echo("continue with: ner train CONFIG --resume (same config; epochs may be raised with --set)")
        raise
    if not out.is_file():
        raise DataError(None, None, "a dev set on which the model improves", "no model saved")
    where = f"best dev F1 {trainer.best_f1:.2f} at epoch {trainer.best_epoch}; " if trainer.setup.dev else ""
    echo(f"{where}saved {out} ({out.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f}s total")
    if cfg.data.test:
        _score_test(cfg, out, echo)
    return out


def _score_test(cfg: Config, model: Path, echo: Echo) -> None:
    """Score the saved (best) model once on data.test; reported, never used to choose anything."""
    from ..evaluate import evaluate
    from ..io.dataset import read_corpus
    from ..tagger import Tagger

    d = cfg.data
    tagger = Tagger.load(model)
    test = read_corpus(d.test, token_col=d.token_col, tag_col=d.tag_col, scheme=d.scheme, repair=d.repair)
    ev = evaluate(test.tags_in("IOB2"), tagger.predict(test.words, test.docs), tagger.target)
    echo(f"test F1 {ev.scores.f1:.2f} (precision {ev.scores.precision:.2f}, recall {ev.scores.recall:.2f})")


def epoch_line(e: Epoch) -> str:
    dev = f"dev F1 {e.dev.scores.f1:6.2f}" if e.dev else "no dev set"
    return f"epoch {e.epoch:3d}  loss {e.loss:.4f}  {dev}  {e.seconds:6.1f}s{'  *' if e.is_best else ''}"


def save_tagger(path: Path, e: Epoch) -> None:
    from ..io.modelfile import save_model

    save_model(path, e.tagger.params, e.tagger.meta)


def run_gradcheck(cfg: Config, *, sentences: int = 4, entries: int = 30, tolerance: float = 1e-5,
                  echo: Echo = print) -> bool:
    """Check the config's model on a few training sentences; print one line per parameter."""
    from ..nn.gradcheck import gradcheck
    from ..nn.model import init_params
    from ..train import make_batch

    train, _ = read_data(cfg)
    setup = prepare(cfg, train, None)
    rng = np.random.default_rng(cfg.train.seed)
    params = init_params(setup.spec, rng, dtype=np.float64, embeddings=setup.init_E)
    if "A" in params:                                  # non-zero transitions so their gradient is exercised
        for k in ("A", "A_start", "A_end"):
            params[k] = rng.normal(0, 0.5, params[k].shape)
    batch = make_batch(setup.train, np.arange(min(sentences, len(setup.train.lengths))))
    s = setup.spec
    echo(f"gradcheck: {s.task} {s.loss}, {s.activation}, window {s.window}, {len(batch.words)} tokens, "
         f"float64, centred differences, tolerance {tolerance:g}")
    ok = True
    for r in gradcheck(params, s, batch, seed=cfg.train.seed, entries=entries):
        good = r.max_rel_error <= tolerance
        ok &= good
        echo(f"  {r.name:8s} {str(r.shape):>14s}  {r.checked:4d} entries  max relative error {r.max_rel_error:.2e}"
             f"  {'ok' if good else 'FAIL'}")
    echo("all gradients match" if ok else "gradient check FAILED")
    return ok

