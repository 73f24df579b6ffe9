"""Words to integer features: the vocabulary, casing and suffix ids, the featurizer and the window matrices."""
