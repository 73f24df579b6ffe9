"""Package data: the built-in English model `en.npz` (see the README, "The built-in model", to rebuild it)."""
