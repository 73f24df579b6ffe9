"""`python -m ner_cli` runs the `ner` command."""

from .cli import main

main()
