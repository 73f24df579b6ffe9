"""Reading and writing: CoNLL files, raw-text tokenization, output formats, pretrained vectors, model files
and checkpoints."""
