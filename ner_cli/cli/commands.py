"""The `ner` command: thin wrappers that parse options and call library functions.

Heavy modules (numpy, the model) are imported inside commands so `ner --help` stays fast. Results go to
stdout; progress, messages and errors go to stderr. User errors (NerError) print one message and exit
non-zero; a closed pipe (`ner tag big.txt | head`) ends quietly.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import NerError, Terminated, UsageError
from ..tags import SCHEMES

# The matrices here are small (a minibatch x a few hundred): one BLAS thread is faster than two fighting
# over two cores, and keeps runs reproducible. Set OPENBLAS_NUM_THREADS (or OMP_NUM_THREADS) to choose.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

app = typer.Typer(
    name="ner",
    help="Named-entity tagger: the CS224N / Collobert et al. word-window network, with backprop by hand.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _stderr(message: str, style: str | None = None) -> None:
    from rich.console import Console

    Console(stderr=True, highlight=False, soft_wrap=True).print(message, style=style, markup=False)


_OUT_OF_MEMORY = (b"error: out of memory\nhint: use a smaller model (model.hidden, model.dim, model.pretrained_limit) "
                  b"or smaller inputs (train.batch_size, shorter lines)\n")


def _out_of_memory() -> None:
    """Report MemoryError with one system call: nothing to import, nothing to allocate."""
    with contextlib.suppress(OSError):
        os.write(2, _OUT_OF_MEMORY)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """NerError -> "error: ..." (+ hint) and its exit code (2 bad input, 1 environment); Ctrl-C -> 130; a closed
    pipe -> quiet; other OSErrors (full disk, no permission, stdout closed) and MemoryError -> one "error:" line
    and exit 1. The README's exit-code table is this function."""
    try:
        yield
    except NerError as e:
        _stderr(f"error: {e.message}", "bold red")
        if e.hint:
            _stderr(f"hint: {e.hint}", "yellow")
        raise typer.Exit(e.exit_code) from None
    except KeyboardInterrupt as e:                         # Ctrl-C, or SIGTERM (Terminated)
        terminated = isinstance(e, Terminated)
        _stderr("terminated" if terminated else "interrupted", "yellow")
        raise typer.Exit(143 if terminated else 130) from None
    except BrokenPipeError:
        _quiet_broken_pipe()
        raise typer.Exit(0) from None
    except OSError as e:                                   # a full disk, no permission, a vanished file...
        _stderr(f"error: {e.filename}: {e.strerror}" if e.filename and e.strerror else f"error: {e.strerror or e}",
                "bold red")
        if e.errno == errno.ENOSPC:
            _stderr("hint: free some disk space, or write somewhere else", "yellow")
        _quiet_broken_pipe()                               # a failed stdout must not fail again at exit
        raise typer.Exit(1) from None
    except MemoryError:
        _out_of_memory()
        raise typer.Exit(1) from None


class _Stdout:
    """Writes to stdout, flushed at once; a full disk or a closed stdout becomes an OSError naming stdout."""

    def __init__(self) -> None:
        if sys.stdout is None:                             # started with stdout closed (`ner tag f >&-`)
            raise OSError(errno.EBADF, "standard output is closed", "<stdout>")

    def write(self, text: str) -> None:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as e:
            raise OSError(e.errno, e.strerror or str(e), "<stdout>") from None


def _quiet_broken_pipe() -> None:
    """After EPIPE, point stdout at /dev/null so Python's exit-time flush doesn't complain."""
    if sys.stdout is None:
        return
    with contextlib.suppress(OSError, ValueError):                 # ValueError: an in-memory stdout (tests)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


SetOption = Annotated[list[str] | None, typer.Option(
    "--set", "-s", help="Override a config key, e.g. --set train.lr=0.01 (repeatable; values read as YAML).",
    metavar="SECTION.KEY=VALUE")]


@app.command()
def train(
    config: Annotated[Path, typer.Argument(help="YAML config (see configs/ and the README's config reference).")],
    set_: SetOption = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Model file to write "
                                                "(default: output.path in the config).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or per-epoch lines.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the checkpoint beside the model "
                                         "(<model>.ckpt, written after every epoch); same config required, "
                                         "train.epochs may be raised.")] = False,
) -> None:
    """Train a window tagger from a YAML config and save the best model (by dev F1) as .npz.

    A checkpoint is written after every epoch; Ctrl-C keeps the best model so far and the checkpoint.
    """
    with user_errors():
        from ..config import check_output, check_paths, load_config
        from ..render import interrupted_lines, training_header, training_summary
        from ..train import TrainingRun
        from .progress import TrainingDisplay

        overrides = list(set_ or [])
        if output is not None:
            overrides.append(f"output.path={output}")
        cfg = load_config(config, overrides)
        check_paths(cfg)
        check_output(cfg, inputs=[config])
        run = TrainingRun(cfg, resume=resume)
        for line in training_header(run):
            _stderr(line)
        try:
            with TrainingDisplay(run.trainer.epoch + 1, quiet=quiet) as display:
                run.fit([display])
        except KeyboardInterrupt:
            for line in interrupted_lines(run):
                _stderr(line)
            raise
        finally:
            run.close()
        for line in training_summary(run.finish()):
            _stderr(line)


class EvalFormat(StrEnum):
    text = "text"
    json = "json"


@app.command("eval")
def eval_(
    model: Annotated[Path, typer.Argument(help="Model file (.npz) written by `ner train`.")],
    data: Annotated[Path, typer.Argument(help="CoNLL file with gold tags (token first column, tag last).")],
    fmt: Annotated[EvalFormat, typer.Option("--format", "-f", help="text: conlleval's report and a confusion "
                                            "matrix; json: the same numbers for machines.")] = EvalFormat.text,
    token_col: Annotated[int, typer.Option(help="Column of the token.")] = 0,
    tag_col: Annotated[int, typer.Option(help="Column of the gold tag (-1 = last).")] = -1,
    repair: Annotated[bool, typer.Option(help="Read invalid gold tag sequences as conlleval does "
                                         "instead of refusing them.")] = False,
    output: Annotated[Path | None, typer.Option("--predictions", "-p", help="Also write 'token gold predicted' "
                                                "lines (conlleval's input format) to this file.")] = None,
) -> None:
    """Score a model on a CoNLL file: entity-level precision/recall/F1 identical to conlleval."""
    with user_errors():
        import json

        from ..config import same_file
        from ..evaluate import score_file
        from ..io.writers import write_predictions
        from ..render import evaluation_text
        from ..tagger import Tagger

        stdout = _Stdout()
        if output is not None and (same_file(output, data) or same_file(output, model)):
            raise UsageError(f"--predictions {output} is an input of this command; writing it would destroy it",
                             hint="write the predictions to another file")
        _refuse_swapped(model, data)
        tagger = Tagger.load(model)
        scored = score_file(tagger, data, token_col=token_col, tag_col=tag_col, repair=repair)
        _warn_disjoint_labels(tagger, scored.corpus, data)
        ev = scored.evaluation
        if output is not None:
            write_predictions(output, scored.corpus.words, scored.corpus.tags_as_written, scored.pred_written)
        if fmt == EvalFormat.json:
            stdout.write(json.dumps({"model": str(model), "data": str(data), **ev.to_dict()}, indent=2) + "\n")
            return
        stdout.write(evaluation_text(ev))


def _refuse_swapped(model: Path, data: Path) -> None:
    """`ner eval DATA MODEL`: say so, rather than what the model loader makes of a text file."""
    import zipfile

    with contextlib.suppress(OSError):
        if model.is_file() and data.is_file() and not zipfile.is_zipfile(model) and zipfile.is_zipfile(data):
            raise UsageError(f"{model} is not a model file but {data} is: the arguments look swapped",
                           hint=f"ner eval MODEL DATA, e.g. ner eval {data} {model}")


def _warn_disjoint_labels(tagger, corpus, data: Path) -> None:
    """Entity types of the gold file that share nothing with the model's: every score will be 0; say why."""
    from ..tags import entity_types

    gold = {t.partition("-")[2] for seq in corpus.tags for t in seq if t != "O"}
    known = {tagger.target} if tagger.target else set(entity_types(tagger.labels))
    if gold and known and not gold & known:
        _stderr(f"warning: {data} has entity types {', '.join(sorted(gold)[:10])}, the model knows "
                f"{', '.join(sorted(known))}: they share none, so every score is 0", "yellow")


class TagFormat(StrEnum):
    conll = "conll"
    jsonl = "jsonl"
    inline = "inline"


MAX_WORKERS = 2 * (os.cpu_count() or 1)        # more processes than that only cost memory


class InputFormat(StrEnum):
    text = "text"
    conll = "conll"


@app.command()
def tag(
    file: Annotated[str, typer.Argument(help="Text file to tag, or - for stdin.")] = "-",
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model file. Default: $NER_MODEL, else the "
                                              "only .npz under ./models/.")] = None,
    fmt: Annotated[TagFormat, typer.Option("--format", "-f", help="conll: token<TAB>tag lines, blank line between "
                                           "sentences; jsonl: one object per input line with character-offset "
                                           "entities; inline: the text with [TYPE entity] markup.")] = TagFormat.conll,
    input_format: Annotated[InputFormat, typer.Option("--input", "-i", help="text: raw text, one sentence a line "
                                                      "(see --paragraphs); conll: pre-tokenized CoNLL, token in the "
                                                      "first column.")] = InputFormat.text,
    paragraphs: Annotated[bool, typer.Option("--paragraphs", help="Treat each line as a paragraph and split it "
                                             "into sentences.")] = False,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="Processes to tag with (output stays in "
                                         f"input order; at most {MAX_WORKERS}).")] = 1,
) -> None:
    """Tag raw text for shell pipelines; results go to stdout, nothing else does."""
    with user_errors():
        if input_format == InputFormat.conll and (fmt != TagFormat.conll or paragraphs or workers > 1):
            given = [o for o, on in (("--format " + fmt.value, fmt != TagFormat.conll), ("--paragraphs", paragraphs),
                                     (f"--workers {workers}", workers > 1)) if on]
            raise UsageError(f"--input conll takes no {', '.join(given)}: CoNLL input is already split into "
                             "sentences and tokens, and is written back as CoNLL (token<TAB>tag) by one process")
        if workers > MAX_WORKERS:
            raise UsageError(f"--workers {workers}: at most {MAX_WORKERS} on this machine ({os.cpu_count()} CPUs, "
                           "each worker holds its own copy of the model)", hint=f"--workers {os.cpu_count() or 1}")
        from ..pipeline import tag_conll_input, tag_lines
        from ..tagger import Tagger
        from .models import find_model
        from .progress import tag_progress

        out = _Stdout()
        path, why = find_model(model)
        tagger = Tagger.load(path)
        if why != "--model":
            _stderr(f"using model {path} ({why})", "dim")
        counter = _LineCounter(_open_text(file))
        if input_format == InputFormat.conll:
            pieces = tag_conll_input(tagger, counter, file if file != "-" else "<stdin>")
        else:
            pieces = tag_lines(tagger, counter, fmt.value, paragraphs, workers=workers)
        with tag_progress() as update:
            for piece in pieces:
                out.write(piece)
                update(counter.lines)


class _LineCounter:
    """Iterates over a text stream, counting the lines read (for the progress display)."""

    def __init__(self, stream) -> None:
        self.stream, self.lines = stream, 0

    def __iter__(self):
        for line in self.stream:
            self.lines += 1
            yield line


def _open_text(file: str):
    """A text stream of the input, undecodable bytes replaced (offsets refer to the decoded text)."""
    from ..errors import DataError, EnvironmentFault

    if file == "-":
        if sys.stdin is None:                              # started with stdin closed (`ner tag - <&-`)
            raise EnvironmentFault("-: standard input is closed", hint="give a file to tag, or pipe text in")
        return open(sys.stdin.fileno(), encoding="utf-8", errors="replace", closefd=False, newline="")
    p = Path(file)
    if not p.is_file():
        raise DataError(file, None, "a text file to tag", "no such file" if not p.exists() else "not a regular file")
    return open(p, encoding="utf-8-sig", errors="replace", newline="")


@app.command()
def convert(
    file: Annotated[Path, typer.Argument(help="CoNLL file to convert.")],
    to: Annotated[str, typer.Option("--to", help=f"Target tag scheme: {', '.join(SCHEMES)} (or BIOES).")],
    source: Annotated[str, typer.Option("--from", help=f"Scheme of the file: auto (detect), {', '.join(SCHEMES)} "
                                        "(or BIOES).")] = "auto",
    repair: Annotated[bool, typer.Option(help="Repair invalid tag sequences (as conlleval reads them) instead "
                                         "of stopping at the first one.")] = False,
    token_col: Annotated[int, typer.Option(help="Column of the token.")] = 0,
    tag_col: Annotated[int, typer.Option(help="Column of the tag (-1 = last).")] = -1,
) -> None:
    """Convert a CoNLL file between IOB1, IOB2 and IOBES (lossless for valid input); writes to stdout."""
    with user_errors():
        from ..io.dataset import convert_file
        from ..tags import normalize_scheme

        stdout = _Stdout()
        try:
            source, to = normalize_scheme(source, auto=True), normalize_scheme(to)
        except ValueError as e:
            raise NerError(f"--from/--to: {e}") from None
        text, detected, repaired = convert_file(file, to, source=source, repair=repair,
                                                token_col=token_col, tag_col=tag_col)
        _stderr(f"{file}: {detected} -> {to}" + (f"; repaired {repaired} sentences" if repaired else ""), "dim")
        stdout.write(text)


@app.command()
def gradcheck(
    config: Annotated[Path, typer.Argument(help="YAML config whose model to check (sizes may be overridden).")],
    set_: SetOption = None,
    sentences: Annotated[int, typer.Option(min=1, help="Training sentences in the checked batch.")] = 4,
    entries: Annotated[int, typer.Option(min=1, help="Entries of each parameter to perturb.")] = 30,
    tolerance: Annotated[float, typer.Option(min=0.0, help="Fail if any relative error exceeds this.")] = 1e-5,
) -> None:
    """Compare every parameter's analytic gradient with centred finite differences (float64)."""
    with user_errors():
        from ..config import check_paths, load_config
        from ..render import gradcheck_header, gradcheck_line
        from ..train import check_gradients

        cfg = load_config(config, list(set_ or []))
        check_paths(cfg)
        spec, n_tokens, results = check_gradients(cfg, sentences=sentences, entries=entries)
        print(gradcheck_header(spec, n_tokens, tolerance))
        for r in results:
            print(gradcheck_line(r, tolerance))
        ok = all(r.max_rel_error <= tolerance for r in results)
        print("all gradients match" if ok else "gradient check FAILED")
        if not ok:
            raise typer.Exit(1)


def _print_version(value: bool) -> None:
    if value:
        from .. import __version__

        print(f"ner {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", help="Print the version and exit.", is_eager=True,
                                                callback=_print_version)] = False) -> None:
    """Named-entity tagger: the CS224N / Collobert et al. word-window network, with backprop by hand."""


def _terminate(signum, frame) -> None:
    raise Terminated()


def main() -> None:
    """The console script: SIGTERM stops a command the way Ctrl-C does (a training run keeps its checkpoint,
    worker processes are stopped and their semaphores released), then exits 143."""
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    app()
