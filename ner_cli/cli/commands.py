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
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


# Message styles as SGR codes: printing one line needs no rich (importing it is ~40 ms of every `ner tag`)
_SGR = {"bold red": "1;31", "yellow": "33", "dim": "2"}
_STRIPPED = dict.fromkeys((7, 8, 11, 12, 13))           # bell, backspace, VT, FF, CR: what rich strips too


def _colour(stream: object) -> bool:
    """Style messages on this stream? Only on a terminal, unless NO_COLOR is set or TERM is dumb; FORCE_COLOR
    styles them anywhere."""
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def _stderr(message: str, style: str | None = None) -> None:
    """One message line on stderr, styled on a terminal."""
    text = message.translate(_STRIPPED)
    if style and _colour(sys.stderr):
        text = f"\x1b[{_SGR[style]}m{text}\x1b[0m"
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


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
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Warnings and errors only: no header, progress "
                                        "bar, epoch lines or summary.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the checkpoint beside the model "
                                         "(<model>.ckpt, written after every epoch); same config required, "
                                         "train.epochs may be raised.")] = False,
) -> None:
    """Train a window tagger from a YAML config and save the best model (by dev F1) as .npz.

    A checkpoint is written after every epoch; Ctrl-C keeps the best model so far and the checkpoint.
    """
    with user_errors():
        from ..config import check_output, check_paths, load_config
        from ..render import interrupted_lines, training_header, training_notices, training_summary
        from ..train import TrainingRun
        from .progress import TrainingDisplay

        overrides = list(set_ or [])
        if output is not None:
            overrides.append(f"output.path={output}")
        cfg = load_config(config, overrides)
        check_paths(cfg)
        check_output(cfg, inputs=[config])
        run = TrainingRun(cfg, resume=resume)
        for line in training_notices(run) if quiet else training_header(run):
            _stderr(line)
        try:
            with TrainingDisplay(run.trainer.epoch + 1, quiet=quiet) as display:
                run.fit([display])
        except BaseException as e:
            run.close()
            if isinstance(e, KeyboardInterrupt):
                for line in interrupted_lines(run):
                    _stderr(line)
            raise
        result = run.finish()                              # releases the output once the file is complete
        for line in [] if quiet else training_summary(result):
            _stderr(line)


class OutputFormat(StrEnum):
    """text for people, json for machines (`ner eval`, `ner info`)."""

    text = "text"
    json = "json"


@app.command("eval")
def eval_(
    paths: Annotated[list[str], typer.Argument(help="MODEL.npz, then one or more CoNLL files with gold tags (- for "
                                               "stdin; gzip is read as is). Without a .npz first, the model is "
                                               "found as for `ner tag`.", metavar="[MODEL] FILE...")],
    model_opt: Annotated[str | None, typer.Option("--model", "-m", help="Model file (instead of the first "
                                                  "argument).")] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="text: conlleval's report and a confusion "
                                            "matrix; json: the same numbers for machines.")] = OutputFormat.text,
    token_col: Annotated[int, typer.Option(help="Column of the token.")] = 0,
    tag_col: Annotated[int, typer.Option(help="Column of the gold tag (-1 = last).")] = -1,
    repair: Annotated[bool, typer.Option(help="Read invalid gold tag sequences as conlleval does "
                                         "instead of refusing them.")] = False,
    output: Annotated[Path | None, typer.Option("--predictions", "-p", help="Also write 'token gold predicted' "
                                                "lines (conlleval's input format) to this file.")] = None,
    errors: Annotated[bool, typer.Option("--errors", "-e", help="List the mistakes instead: missed, spurious, "
                                         "wrong type, wrong boundary, each with its sentence and spans, counted "
                                         "by kind and type (a table on a terminal, JSON lines otherwise or with "
                                         "--format json).")] = False,
) -> None:
    """Score a model on CoNLL files: entity-level precision/recall/F1 identical to conlleval.

    ner eval models/conll2003.npz dev.txt test.txt.gz; ner eval dev.txt (the model found as for `ner tag`)
    """
    with user_errors():
        import json

        from ..config import same_file
        from ..errors import UsageError
        from ..evaluate import score_file
        from ..io.writers import write_predictions
        from ..render import evaluation_text
        from ..tagger import Tagger

        stdout = _Stdout()
        model, files = _model_and_files(paths, model_opt)
        if output is not None and len(files) > 1:
            raise UsageError("--predictions takes one data file", hint="run ner eval once per file")
        if output is not None and any(same_file(output, p) for p in (*files, model)):
            raise UsageError(f"--predictions {output} is an input of this command; writing it would destroy it",
                             hint="write the predictions to another file")
        tagger = Tagger.load(model)
        results = []
        for data in files:
            scored = score_file(tagger, data, token_col=token_col, tag_col=tag_col, repair=repair)
            _warn_disjoint_labels(tagger, scored.corpus, data)
            if errors:
                _print_mistakes(stdout, scored, as_json=fmt == OutputFormat.json, name=data, several=len(files) > 1)
                continue
            ev = scored.evaluation
            if output is not None:
                write_predictions(output, scored.corpus.words, scored.corpus.tags_as_written, scored.pred_written)
            if fmt == OutputFormat.json:
                results.append({"model": str(model), "data": str(data), **ev.to_dict()})
                continue
            head = f"== {data}\n" if len(files) > 1 else ""
            stdout.write(head + evaluation_text(ev) + ("\n" if head else ""))
        if results:
            stdout.write(json.dumps(results[0] if len(results) == 1 else results, indent=2) + "\n")


def _model_and_files(paths: list[str], model_opt: str | None) -> tuple[Path, list[str]]:
    """(model, data files) from `ner eval [MODEL] FILE...`: a first argument that ends in .npz, or is a zip
    archive (what a .npz is) by its first bytes, is the model."""
    from ..errors import UsageError
    from .models import find_model

    def is_model(path: str) -> bool:
        if path.endswith(".npz"):
            return True
        try:
            with open(path, "rb") as f:
                return f.read(4) == b"PK\x03\x04"
        except OSError:
            return False

    if model_opt is None and paths and is_model(paths[0]):
        model, files = Path(paths[0]), paths[1:]
    elif model_opt is None and len(paths) == 2 and is_model(paths[1]) and Path(paths[0]).is_file():
        raise UsageError(f"{paths[0]} is not a model file but {paths[1]} is: the arguments look swapped",
                         hint=f"ner eval MODEL DATA, e.g. ner eval {paths[1]} {paths[0]}")
    else:
        model, why = find_model(model_opt)
        if why != "--model":
            _stderr(f"using model {model} ({why})", "dim")
        files = list(paths)
    if not files:
        raise UsageError("no data file to score", hint="ner eval MODEL FILE... (- reads standard input)")
    return model, files


def _print_mistakes(stdout: _Stdout, scored, *, as_json: bool, name: str, several: bool) -> None:
    """The error list: a rich table when stdout is a terminal (and not --format json), else JSON lines."""
    import json

    from ..mistakes import count_mistakes, find_mistakes

    mistakes = find_mistakes(scored.corpus.words, scored.gold, scored.pred, scored.corpus.lines)
    counts = count_mistakes(mistakes)
    if as_json or not sys.stdout.isatty():
        extra = {"file": name} if several else {}
        for m in mistakes:
            stdout.write(json.dumps({**extra, **m.to_dict()}, ensure_ascii=False) + "\n")
        stdout.write(json.dumps({**extra, "summary": counts}) + "\n")
        return
    from rich.console import Console

    from .tables import mistakes_tables

    mistakes_tables(Console(), mistakes, counts, title=name)


def _warn_disjoint_labels(tagger, corpus, data: Path) -> None:
    """Entity types of the gold file that share nothing with the model's: every score will be 0; say why."""
    from ..tags import entity_types

    gold = set(entity_types(t for seq in corpus.tags for t in seq))
    known = {tagger.target} if tagger.target else set(entity_types(tagger.labels))
    if gold and known and not gold & known:
        _stderr(f"warning: {data} has entity types {', '.join(sorted(gold)[:10])}, the model knows "
                f"{', '.join(sorted(known))}: they share none, so every score is 0", "yellow")


class TagFormat(StrEnum):
    conll = "conll"
    jsonl = "jsonl"
    inline = "inline"
    html = "html"


MAX_WORKERS = 2 * (os.cpu_count() or 1)        # more processes than that only cost memory


class InputFormat(StrEnum):
    text = "text"
    conll = "conll"


@app.command()
def tag(
    file: Annotated[str, typer.Argument(help="Text file to tag (gzip is read as is), or - for stdin.")] = "-",
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model file. Default: $NER_MODEL, else the "
                                              "only .npz under ./models/, else the built-in English model.")] = None,
    fmt: Annotated[TagFormat, typer.Option("--format", "-f", help="conll: token<TAB>tag lines, blank line between "
                                           "sentences; jsonl: one object per input line with character-offset "
                                           "entities and their scores; inline: the text with [TYPE entity] "
                                           "markup; html: a self-contained page with coloured entities.")
                      ] = TagFormat.conll,
    input_format: Annotated[InputFormat, typer.Option("--input", "-i", help="text: raw text, one sentence a line "
                                                      "(see --paragraphs); conll: pre-tokenized CoNLL, token in the "
                                                      "first column.")] = InputFormat.text,
    paragraphs: Annotated[bool, typer.Option("--paragraphs", help="Treat each line as a paragraph and split it "
                                             "into sentences.")] = False,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="Processes to tag with (output stays in "
                                         f"input order; at most {MAX_WORKERS}).")] = 1,
    scores: Annotated[bool, typer.Option("--scores", help="conll output: a third column with the probability of "
                                         "the entity each token is in (- for O tokens).")] = False,
    min_score: Annotated[float | None, typer.Option("--min-score", min=0.0, max=1.0, help="Drop entities whose "
                                                    "probability is below P (their tokens become O).",
                                                    metavar="P")] = None,
) -> None:
    """Tag raw text for shell pipelines; results go to stdout, nothing else does.

    Each entity gets a probability (its span marginal: forward-backward for a CRF model, the per-token
    softmax otherwise): "score" in jsonl, --scores in conll, shown in html. From a terminal or a pipe that
    pauses (tail -f log | ner tag) each line's result is written as soon as the line is complete.

    Documents: the default model decodes a word that recurs in a document consistently. A document is a block
    of lines between blank lines, cut every 100 lines, and where the input is cut into chunks (after 4,000 lines
    without a blank line, ~1 MB, or where a pipe pauses); with --paragraphs, one line; with --input conll, what
    follows a -DOCSTART- line (without any, each sentence).
    """
    with user_errors():
        if input_format == InputFormat.conll and (fmt != TagFormat.conll or paragraphs or workers > 1):
            given = [o for o, on in (("--format " + fmt.value, fmt != TagFormat.conll), ("--paragraphs", paragraphs),
                                     (f"--workers {workers}", workers > 1)) if on]
            raise UsageError(f"--input conll takes no {', '.join(given)}: CoNLL input is already split into "
                             "sentences and tokens, and is written back as CoNLL (token<TAB>tag) by one process")
        if min_score is not None and not 0 <= min_score <= 1:          # typer's range lets nan through
            raise UsageError(f"--min-score {min_score}: expected a probability from 0 to 1")
        if workers > MAX_WORKERS:
            raise UsageError(f"--workers {workers}: at most {MAX_WORKERS} on this machine ({os.cpu_count()} CPUs, "
                           "each worker holds its own copy of the model)", hint=f"--workers {os.cpu_count() or 1}")
        if workers > 1:
            from ..process_pool import start_forkserver

            start_forkserver()                           # before numpy starts threads: workers ignore Ctrl-C
        from functools import partial

        from ..heap import keep_freed_memory
        from ..io.source import LineChunks, open_text, stdin_is_terminal
        from ..pipeline import CHUNK_LINES, chunks, tag_conll_input, tag_lines
        from ..render import html_foot, html_head
        from ..tagger import Tagger
        from .models import find_model
        from .progress import tag_progress

        keep_freed_memory()                              # each chunk reuses the last one's memory (heap.py)
        out = _Stdout()
        path, why = find_model(model)
        tagger = Tagger.load(path)
        if why != "--model":
            _stderr(f"using model {path} ({why})", "dim")
        if file != "-":
            _check_input_file(file)
        elif stdin_is_terminal():
            _stderr("reading standard input, a sentence a line; Ctrl-D ends it", "dim")
        options = {"scores": scores, "min_score": min_score}
        if input_format == InputFormat.conll:
            counter = _LineCounter(open_text(file))
            pieces = tag_conll_input(tagger, counter, file if file != "-" else "<stdin>", **options)
        else:
            name = file if file != "-" else "<stdin>"
            source = LineChunks(file, CHUNK_LINES, partial(chunks, name=name))
            counter = _LineCounter(source, chunked=True)
            pieces = tag_lines(tagger, counter, fmt.value, paragraphs, workers=workers, chunked=True,
                               input_waiting=source.waiting, **options)
        if fmt == TagFormat.html:
            out.write(html_head(tagger, file, path))
        with tag_progress() as update:
            for piece in pieces:
                out.write(piece)
                update(counter.lines)
        if fmt == TagFormat.html:
            out.write(html_foot())


def _check_input_file(file: str) -> None:
    from ..errors import DataError

    p = Path(file)
    if not p.is_file():
        raise DataError(file, None, "a text file to tag", "no such file" if not p.exists() else "not a regular file")


class _LineCounter:
    """Iterates over lines (or chunks of lines), counting the lines read (for the progress display)."""

    def __init__(self, stream, chunked: bool = False) -> None:
        self.stream, self.lines, self.chunked = stream, 0, chunked

    def __iter__(self):
        for item in self.stream:
            self.lines += len(item) if self.chunked else 1
            yield item


@app.command()
def convert(
    file: Annotated[Path, typer.Argument(help="CoNLL file to convert (- for stdin; gzip is read as is).")],
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
        from ..nn.compiled import use_compiled
        from ..render import gradcheck_header, gradcheck_line
        from ..train import check_gradients

        cfg = load_config(config, list(set_ or []))
        check_paths(cfg)
        spec, n_tokens, results = check_gradients(cfg, sentences=sentences, entries=entries)
        print(gradcheck_header(spec, n_tokens, tolerance, use_compiled(cfg.train.kernel)))
        for r in results:
            print(gradcheck_line(r, tolerance))
        ok = all(r.max_rel_error <= tolerance for r in results)
        print("all gradients match" if ok else "gradient check FAILED")
        if not ok:
            raise typer.Exit(1)


@app.command()
def info(
    model: Annotated[str | None, typer.Argument(help="Model file. Default: as for `ner tag` ($NER_MODEL, the "
                                                "only .npz under ./models/, the built-in English model).")] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="text: tables; json: for machines.")
                   ] = OutputFormat.text,
) -> None:
    """What a model file holds: task, loss, sizes, features, labels, scores, training history and config."""
    with user_errors():
        import json

        from rich.console import Console

        from ..io.modelfile import load_model_arrays
        from .info import model_info, print_info
        from .models import find_model

        stdout = _Stdout()
        path, why = find_model(model)
        _, meta = load_model_arrays(path)
        facts = model_info(Path(path), meta, why)
        if fmt == OutputFormat.json:
            stdout.write(json.dumps(facts, indent=2, ensure_ascii=False) + "\n")
            return
        print_info(facts, Console(highlight=False))


@app.command()
def report(
    model: Annotated[Path, typer.Argument(help="Model file (.npz).")],
    data: Annotated[str, typer.Argument(help="CoNLL file with gold tags (- for stdin; gzip is read as is).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")] = Path("report.html"),
    token_col: Annotated[int, typer.Option(help="Column of the token.")] = 0,
    tag_col: Annotated[int, typer.Option(help="Column of the gold tag (-1 = last).")] = -1,
    repair: Annotated[bool, typer.Option(help="Read invalid gold tag sequences as conlleval does.")] = False,
) -> None:
    """One self-contained HTML page: learning curves, per-type scores, confusion heatmap, calibration, errors.

    Needs matplotlib: pip install 'ner-cli[plots]'.
    """
    with user_errors():
        from ..io.modelfile import atomic_write_bytes
        from ..report_page import make_report
        from ..tagger import Tagger

        page, summary = make_report(Tagger.load(model), model, data, token_col=token_col, tag_col=tag_col,
                                    repair=repair)
        atomic_write_bytes(output, page.encode("utf-8"))
        _stderr(f"wrote {output} ({len(page) / 1e6:.1f} MB): {summary}", "dim")


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
    worker processes are stopped), then exits 143. Once the command has returned, both are ignored."""
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    try:
        app()
    finally:                # the work is done or stopped: an interrupt in Python's shutdown prints no traceback
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
