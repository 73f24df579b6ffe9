"""What `ner train` and `ner tag` show while they work, on stderr: a progress bar per epoch with the epoch lines
printed through the bar's own console (so they never garble it), and a running count of lines tagged."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:                      # `ner tag` imports this module too: it must not pay for importing training
    from ..train import Event


class TrainingDisplay:
    """A training callback: a live bar for the running epoch, then the epoch's line above it."""

    def __init__(self, first_epoch: int, quiet: bool = False) -> None:
        self.quiet, self.next_epoch = quiet, first_epoch
        self.bar: Any = None
        self.task: Any = None
        self.running = 0.0

    def __enter__(self) -> TrainingDisplay:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        columns = [TextColumn("epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("loss {task.fields[loss]:.4f}"), TimeRemainingColumn()]
        self.bar = Progress(*columns, console=Console(stderr=True, highlight=False), transient=True,
                            disable=self.quiet)
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(*exc)

    def __call__(self, event: Event) -> None:
        from ..render import epoch_line
        from ..train import Epoch, Step

        if self.task is None:
            self.task = self.bar.add_task("train", total=None, epoch=self.next_epoch, loss=0.0)
        if isinstance(event, Step):
            self.running = event.loss if event.batch == 1 else 0.98 * self.running + 0.02 * event.loss
            if event.batch % 20 == 0 or event.batch == event.n_batches:
                self.bar.update(self.task, completed=event.batch, total=event.n_batches, loss=self.running)
            return
        assert isinstance(event, Epoch)
        self.bar.remove_task(self.task)
        self.task, self.next_epoch = None, event.epoch + 1
        if not self.quiet:
            self.bar.console.print(epoch_line(event), markup=False)


@contextlib.contextmanager
def tag_progress() -> Iterator[Callable[[int], None]]:
    """A 'lines tagged' counter on stderr when stderr is a terminal and stdout is not (on one terminal the
    spinner would share a line with the results); nothing at all in pipes and files."""
    if not sys.stderr or not sys.stderr.isatty() or (sys.stdout is not None and sys.stdout.isatty()):
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.completed:,} lines tagged"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True, redirect_stdout=False, redirect_stderr=False) as bar:
        task = bar.add_task("tag", total=None)
        yield lambda n: bar.update(task, completed=n)
