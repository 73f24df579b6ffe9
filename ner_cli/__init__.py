"""ner: a word-window named-entity tagger with hand-written backprop (CS224N lecture 3; Collobert et al. 2011)."""

__version__ = "0.1.0"
