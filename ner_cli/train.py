"""Training: the one epoch loop, and the state of a run that it drives.

A `Trainer` owns everything that changes while training (parameters, optimiser, random generator, epoch
counter, early-stopping state, history) and hands it out as `state_dict()` / takes it back with
`load_state_dict()`, as nanoGPT keeps its checkpoint dict. `fit(trainer)` is the epoch loop: it yields a
`Step` after every batch and an `Epoch` after every epoch and prints or writes nothing. `TrainingRun` is what
`ner train` runs around it: read and prepare the data, resume, save the best model and a checkpoint after
every epoch, score the test file once at the end. Callers see progress through callbacks.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .config import Config, check_output
from .errors import DataError, ModelFileError, TrainingDiverged
from .evaluate import FileScore, score_file
from .features.fallback import extended_vocab, with_fallback
from .features.featurizer import Encoded
from .features.vocab import UNK_ID, rare_ids
from .features.windows import replace_tokens
from .io.dataset import Corpus
from .io.embeddings import start_loading
from .metrics import Evaluation, evaluate
from .nn.compiled import use_compiled, warm_up
from .nn.gradcheck import GradCheck
from .nn.helper import Helper, default_threads
from .nn.model import TABLES, Batch, ModelSpec, Params, backward, dropout_masks, forward, init_params
from .nn.optim import Optimizer, make_optimizer
from .prepare import Setup, prepare, read_data
from .tagger import TYPE_MAX_FLOATS, Tagger

# settings that may change between an interrupted run and its resumption
RESUMABLE_CHANGES = {("train", "epochs"), ("train", "patience"), ("train", "kernel"), ("output", "path")}


@dataclass
class Step:
    epoch: int
    batch: int
    n_batches: int
    loss: float


@dataclass
class Epoch:
    epoch: int
    loss: float                     # mean training loss over the epoch's batches
    seconds: float                  # wall time of the epoch (training + dev scoring)
    dev: Evaluation | None          # dev scores, None without a dev set
    is_best: bool                   # best dev F1 so far (always True without a dev set)
    tagger: Tagger                  # the model as it is after this epoch
    lr: float = 0.0                 # the learning rate the epoch trained with


Event = Step | Epoch
Callback = Callable[[Event], None]


def batches(n_sentences: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """A shuffled partition of sentence ids into minibatches."""
    order = rng.permutation(n_sentences)
    return [order[i:i + batch_size] for i in range(0, n_sentences, batch_size)]


def make_batch(enc: Encoded, sentence_ids: np.ndarray, starts: np.ndarray | None = None) -> Batch:
    """The batch of these sentences; `starts` (enc.starts, computed once by a trainer) saves a cumsum per batch."""
    rows = enc.rows_of(sentence_ids) if starts is None else token_rows(starts, enc.lengths, sentence_ids)
    ids = {f: None if getattr(enc, f) is None else getattr(enc, f)[rows] for _, f in TABLES}
    return Batch(**ids, targets=enc.targets[rows], lengths=enc.lengths[sentence_ids], char_bag=enc.char_bag)


def token_rows(starts: np.ndarray, lengths: np.ndarray, sentence_ids: np.ndarray) -> np.ndarray:
    """Token rows of the given sentences, in order: `Encoded.rows_of` with the sentence starts given."""
    lens = lengths[sentence_ids]
    offset_in_batch = np.repeat(np.cumsum(lens) - lens, lens)
    return np.repeat(starts[sentence_ids], lens) + (np.arange(lens.sum()) - offset_in_batch)


def release_free_memory() -> None:
    """Collect reference cycles, then hand the C allocator's free pages back to the system (glibc's
    `malloc_trim`; nothing elsewhere).

    Each epoch's `Tagger` builds a vocabulary (a 100k-word index) whose memoised encoder refers back to it: a
    reference cycle, freed only by Python's occasional full collection. The other large temporaries of an epoch
    (the model copy, dev scoring, the file being written) stayed in glibc's heap once freed. Together they made
    the RSS of `ner train` grow ~6 MB an epoch, to a 452 MB peak in 15 epochs."""
    gc.collect()
    with contextlib.suppress(AttributeError, OSError):
        ctypes.CDLL(None).malloc_trim(0)


def history_entry(e: Epoch) -> dict[str, Any]:
    """What the model file keeps of an epoch: loss, dev F1 (overall and per type), learning rate, seconds."""
    dev = e.dev.scores if e.dev else None
    return {"epoch": e.epoch, "loss": e.loss, "lr": e.lr, "seconds": round(e.seconds, 3),
            "dev_f1": dev.f1 if dev else None,
            "dev_f1_per_type": {k: v.f1 for k, v in dev.per_type.items()} if dev else None}


class Trainer:
    """The state of one training run: parameters, optimiser, random generator, epoch counter, best score."""

    def __init__(self, cfg: Config, setup: Setup, threads: int = 1) -> None:
        self.cfg, self.setup = cfg, setup
        self.helper = Helper(threads)           # a second thread: the next batch's masks, δᵀx beside Wᵀδ
        self._starts = setup.train.starts
        t = cfg.train
        self.rng = np.random.default_rng(t.seed)
        self.params: Params = init_params(setup.spec, self.rng, embeddings=setup.init_E)
        self.compiled = use_compiled(t.kernel)  # numba's loops: the CRF's loss, Adam's update, the row sums
        setup.meta["train_kernel"] = "numba" if self.compiled else "numpy"
        self._vocab = extended_vocab(setup.vocab, setup.fallback)   # `tagger()`'s, sharing the 100k-word index
        self.kernel_seconds = 0.0               # time to compile the loops (first run) or load them from the cache
        if self.compiled:
            start = time.perf_counter()
            warm_up()
            self.kernel_seconds = time.perf_counter() - start
        self.optimizer: Optimizer = make_optimizer(t.optimizer, t.lr, {"E": t.embedding_lr_scale}, self.compiled)
        self.epoch = 0
        self.best_f1 = -1.0
        self.best_epoch = 0
        self.bad_epochs = 0
        self.history: list[dict[str, Any]] = []
        # word dropout: its own generator, so that a run without it draws exactly the numbers it always did
        self.word_rng = np.random.default_rng((t.seed, 1))
        self.rare = rare_ids(setup.vocab, setup.train_corpus.words, t.rare_count) \
            if t.word_dropout and setup.train_corpus is not None else None

    @classmethod
    def from_config(cls, cfg: Config, train: Corpus | None = None, dev: Corpus | None = None,
                    threads: int = 1) -> Trainer:
        """Read the config's data (unless corpora are given) and prepare a fresh run."""
        use_compiled(cfg.train.kernel)          # a kernel that is not installed: say so before reading anything
        vectors = start_loading(cfg.model.embeddings) if cfg.model.embeddings else None   # while the corpus is read
        try:
            if train is None:
                train, dev = read_data(cfg)
            setup = prepare(cfg, train, dev, vectors)
        finally:
            if vectors is not None:
                vectors.cancel()                # a child process still reading, when reading the corpus failed
        trainer = cls(cfg, setup, threads)
        setup.init_E = None                     # its rows are params["E"] now: no second 20 MB copy kept
        setup.train_corpus = setup.dev_corpus = train = dev = None   # encoded: their word strings (~20 MB) go too
        release_free_memory()                   # GloVe's 400k words and the corpora are gone
        return trainer

    def tagger(self, scores: dict[str, Any] | None = None) -> Tagger:
        """A copy of the model as it is now."""
        meta = {**self.setup.meta, "scores": scores or {}, "history": list(self.history)}
        fallback = self.setup.fallback                  # if any, E is concatenated with it: a new array, no copy
        params = {k: v if k == "E" and fallback is not None else v.copy() for k, v in self.params.items()}
        return Tagger(*with_fallback(params, meta, fallback), vocab=self._vocab)

    def run_epoch(self) -> Iterator[Event]:
        """One pass over the training data (a Step per batch), then dev scoring (an Epoch)."""
        t0 = time.perf_counter()
        self.epoch += 1
        enc, spec, lr = self.setup.train, self.setup.spec, self.optimizer.lr
        parts = batches(len(enc.lengths), self.cfg.train.batch_size, self.rng)
        total = 0.0
        masks = self._draw_masks(parts, 0)
        for i, ids in enumerate(parts):
            batch = make_batch(enc, ids, self._starts)
            if self.rare is not None:
                batch.words = self._drop_rare_words(batch.words, batch.lengths)
            noise = masks.result() if masks else None
            masks = self._draw_masks(parts, i + 1)                 # the next batch's, while this one runs
            with np.errstate(over="ignore", invalid="ignore"):       # a diverging run is reported just below
                loss, cache = forward(self.params, spec, batch, self.rng, noise, self.compiled)
            if not np.isfinite(loss):
                raise TrainingDiverged(f"the training loss became {loss} in epoch {self.epoch}, batch {i + 1}",
                                       hint=self._divergence_hint())
            self.optimizer.step(self.params, backward(self.params, spec, cache, self.helper), self.helper)
            total += loss
            yield Step(self.epoch, i + 1, len(parts), loss)
        bad = [k for k, p in self.params.items() if not np.isfinite(p).all()]
        if bad:                      # a finite loss, then an update to inf/NaN: never save (or score) such a model
            raise TrainingDiverged(f"parameters {', '.join(bad)} became NaN or infinite in epoch {self.epoch}",
                                   hint=self._divergence_hint())
        self.optimizer.lr *= self.cfg.train.lr_decay
        ev = None
        is_best = True
        tagger = self.tagger()
        if self.setup.dev is not None:
            # dev token by token: a fresh table of per-type products would fault in ~60 MB of pages for one pass
            # (0.27 s against 0.17 s on CoNLL-2003 dev, the same tags) and raise the peak memory of training
            tagger.type_floats = 0
            ev = evaluate(self.setup.dev_gold, tagger.predict_encoded(self.setup.dev), self.setup.meta["target"])
            tagger.type_floats = TYPE_MAX_FLOATS
            is_best = ev.scores.f1 > self.best_f1
        if is_best:
            self.best_f1 = ev.scores.f1 if ev else self.best_f1
            self.best_epoch = self.epoch
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        event = Epoch(self.epoch, total / max(len(parts), 1), time.perf_counter() - t0, ev, is_best, tagger, lr)
        self.history.append(history_entry(event))
        tagger.meta["history"] = list(self.history)
        if is_best:
            tagger.meta["scores"] = {"epoch": self.epoch, "dev": ev.scores.to_dict() if ev else None}
        yield event

    def _draw_masks(self, parts: list[np.ndarray], i: int) -> Future | None:
        """Batch i's dropout masks, drawn in the helper thread (None past the last batch, or when `forward` must
        draw from the generator itself: the margin loss draws corrupted windows first). Only the helper uses
        the generator until the Future is done, and it draws in batch order: the same numbers as `forward`."""
        if i >= len(parts) or self.setup.spec.loss == "margin":
            return None
        n_tokens = int(self.setup.train.lengths[parts[i]].sum())
        return self.helper.submit(dropout_masks, self.setup.spec, n_tokens, self.rng,
                                  self.params["W"].dtype)

    def _drop_rare_words(self, words: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """The batch's windows with each rare word read as <UNK> with chance `train.word_dropout`, so the <UNK>
        row (never seen in training otherwise) learns what an unseen name looks like from casing and context."""
        centre = words[:, self.setup.spec.window]
        drop = self.rare[centre] & (self.word_rng.random(len(centre)) < self.cfg.train.word_dropout)
        return replace_tokens(words, lengths, self.setup.spec.window, drop, UNK_ID)

    def _divergence_hint(self) -> str:
        t = self.cfg.train
        hint = f"lower the learning rate (now --set train.lr={self.optimizer.lr:g})"
        return hint + (" or try --set train.optimizer=adam" if t.optimizer != "adam" else "")

    def should_stop(self) -> bool:
        t = self.cfg.train
        return self.epoch >= t.epochs or (t.patience > 0 and self.bad_epochs >= t.patience)

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: arrays under "params" and "optimizer", the rest plain JSON."""
        return {"params": dict(self.params), "optimizer": self.optimizer.state(), "lr": self.optimizer.lr,
                "rng": self.rng.bit_generator.state,
                "word_rng": self.word_rng.bit_generator.state, "epoch": self.epoch, "best_f1": self.best_f1,
                "best_epoch": self.best_epoch, "bad_epochs": self.bad_epochs, "history": self.history,
                "config": self.cfg.to_dict(), "vocab_size": self.setup.spec.vocab_size}

    def load_state_dict(self, state: dict[str, Any], source: str = "checkpoint") -> None:
        """Continue from `state_dict()` of a run with the same config (train.epochs/patience may change)."""
        mine = self.cfg.to_dict()
        changed = [f"{s}.{k}" for s, sec in state["config"].items() for k, v in sec.items()
                   if (s, k) not in RESUMABLE_CHANGES and mine.get(s, {}).get(k) != v]
        if changed:
            raise ModelFileError(f"{source}: the config differs from the checkpoint's in {', '.join(changed)}",
                                 hint="resume with the same config (only train.epochs, train.patience and "
                                      "train.kernel may change)")
        params = state["params"]
        if params.keys() != self.params.keys() or state["vocab_size"] != self.setup.spec.vocab_size:
            raise ModelFileError(f"{source}: checkpoint does not match this model (different data or vocabulary?)")
        expected = self.optimizer.state_shapes(self.params) if state["epoch"] else {"t": ()}
        optim = state["optimizer"]
        if optim.keys() != expected.keys():
            raise ModelFileError(f"{source}: checkpoint optimiser state has {sorted(optim)[:6]}, expected "
                                 f"{sorted(expected)[:6]} ({self.cfg.train.optimizer})")
        for group, arrays, shapes in (("array", params, {k: v.shape for k, v in self.params.items()}),
                                      ("optimiser array", optim, expected)):
            for k, v in arrays.items():
                if v.shape != shapes[k]:
                    raise ModelFileError(f"{source}: checkpoint {group} {k} has shape {v.shape}, expected {shapes[k]}")
        if int(optim["t"]) < 0:
            raise ModelFileError(f"{source}: checkpoint optimiser step count is negative")
        for k, v in params.items():
            self.params[k] = v.astype(self.params[k].dtype)
        self.optimizer.load_state(optim)
        self.optimizer.lr = state["lr"]
        self.rng.bit_generator.state = state["rng"]
        if "word_rng" in state:                            # checkpoints from before word dropout have none
            self.word_rng.bit_generator.state = state["word_rng"]
        self.epoch, self.best_f1 = state["epoch"], state["best_f1"]
        self.best_epoch, self.bad_epochs = state["best_epoch"], state["bad_epochs"]
        self.history = list(state.get("history", []))


def fit(trainer: Trainer) -> Iterator[Event]:
    """The epoch loop: run epochs until the config's epochs or patience say stop, yielding every event."""
    while not trainer.should_stop():
        yield from trainer.run_epoch()


@dataclass
class TrainResult:
    path: Path                       # the saved (best) model
    best_epoch: int
    best_f1: float | None            # dev F1 of the saved model, None without a dev set
    seconds: float                   # wall time of the whole run
    test: FileScore | None = None    # the saved model scored on data.test, if the config names one


class TrainingRun:
    """One run of `ner train`: the data read and prepared, a Trainer (resumed from `<model>.ckpt` if asked),
    the best model saved whenever dev F1 improves and a checkpoint after every epoch."""

    def __init__(self, cfg: Config, *, resume: bool = False, threads: int | None = None) -> None:
        from .io.checkpoint import checkpoint_path, load_checkpoint, lock_output, release_output

        self.t0 = time.perf_counter()
        check_output(cfg)                                 # before any work: refuse a place that can't be written
        self.cfg = cfg
        self.out = Path(cfg.output.path)
        self.lock = lock_output(self.out)                 # one run per model file; stale temporaries removed
        self.saved_epoch: int | None = None               # the last epoch whose model this run wrote
        try:
            self.trainer = Trainer.from_config(cfg, threads=default_threads() if threads is None else threads)
            self.checkpoint = checkpoint_path(self.out)
            self.resumed = resume
            if resume:
                self.trainer.load_state_dict(load_checkpoint(self.checkpoint), str(self.checkpoint))
                if self.trainer.best_epoch:               # the model on disk is this training's best so far
                    self.saved_epoch = self.trainer.best_epoch
        except BaseException:
            release_output(self.lock)
            raise

    def close(self) -> None:
        """Release the output and stop the helper thread (idempotent); `finish` does it, call it yourself after
        an interruption."""
        from .io.checkpoint import release_output

        self.trainer.helper.close()
        if not self.lock.closed:
            release_output(self.lock)

    def fit(self, callbacks: Iterable[Callback] = ()) -> None:
        """Train to the end, saving as it goes; each callback sees every event after it has been saved."""
        callbacks = list(callbacks)
        for event in fit(self.trainer):
            if isinstance(event, Epoch):
                self._save(event)
            for callback in callbacks:
                callback(event)

    def _save(self, event: Epoch) -> None:
        from .io.checkpoint import save_checkpoint
        from .io.modelfile import save_model

        if event.is_best:
            save_model(self.out, event.tagger.params, event.tagger.meta)
            self.saved_epoch = event.epoch
        save_checkpoint(self.checkpoint, self.trainer.state_dict())
        release_free_memory()

    def finish(self) -> TrainResult:
        """The result, with the saved model scored once on data.test (reported, never used to choose).

        The saved model's metadata then gets the whole history (the epochs after the best one too) and the dev
        and test scores of the file as saved (stored arrays are half precision, so these can differ in the
        last digits from the dev F1 measured in memory during training), so that `ner info` shows them and
        they equal what `ner eval` gives for the file."""
        try:                                               # the lock is held until the file is complete
            if self.saved_epoch is None:                   # never report a file this run did not write
                raise DataError(None, None, "a dev set on which the model improves", "no model saved")
            t = self.trainer
            result = TrainResult(self.out, t.best_epoch, t.best_f1 if self.trainer.setup.dev else None,
                                 time.perf_counter() - self.t0)
            t.optimizer.free()                             # training is over: its moments (2 x E) are not needed
            has_dev = t.setup.dev is not None
            t.setup.train = t.setup.dev = None             # nor are the encoded corpora
            release_free_memory()
            d = self.cfg.data
            saved = Tagger.load(self.out)
            saved.type_floats = 0                          # one pass each: token by token, no ~60 MB product table
            kw = dict(token_col=d.token_col, tag_col=d.tag_col, scheme=d.scheme, repair=d.repair)
            if d.test:
                result.test = score_file(saved, d.test, **kw)
            dev = score_file(saved, d.dev, **kw) if d.dev and has_dev else None
            del saved                                      # its products and E, before the file is read again
            self._complete_model_file(dev, result.test)
        finally:
            self.close()
        return result

    def _complete_model_file(self, dev: FileScore | None, test: FileScore | None) -> None:
        """Rewrite the saved model's metadata (atomically): the full history and the saved file's scores."""
        from .io.modelfile import load_model_arrays, save_model

        params, meta = load_model_arrays(self.out)
        meta["history"] = list(self.trainer.history)
        scores = dict(meta.get("scores") or {})
        for name, scored in (("dev", dev), ("test", test)):
            if scored is not None:
                scores[name] = scored.evaluation.scores.to_dict()
        meta["scores"] = scores
        save_model(self.out, params, meta)


def train(cfg: Config, *, resume: bool = False, callbacks: Iterable[Callback] = ()) -> TrainResult:
    """Train as the config says and save the best model: `ner train` without the display."""
    run = TrainingRun(cfg, resume=resume)
    try:
        run.fit(callbacks)
    except BaseException:
        run.close()
        raise
    return run.finish()


def check_gradients(cfg: Config, *, sentences: int = 4, entries: int = 30
                    ) -> tuple[ModelSpec, int, list[GradCheck]]:
    """The config's model in float64 on its first training sentences, checked against finite differences:
    (spec, tokens in the batch, one GradCheck per parameter)."""
    from .nn.gradcheck import gradcheck

    train_corpus, _ = read_data(cfg)
    setup = prepare(cfg, train_corpus, None)
    rng = np.random.default_rng(cfg.train.seed)
    params = init_params(setup.spec, rng, dtype=np.float64, embeddings=setup.init_E)
    if "A" in params:                                  # non-zero transitions so their gradient is exercised
        for k in ("A", "A_start", "A_end"):
            params[k] = rng.normal(0, 0.5, params[k].shape)
    batch = make_batch(setup.train, np.arange(min(sentences, len(setup.train.lengths))))
    return setup.spec, len(batch.words), gradcheck(params, setup.spec, batch, seed=cfg.train.seed, entries=entries,
                                                   compiled=use_compiled(cfg.train.kernel))
