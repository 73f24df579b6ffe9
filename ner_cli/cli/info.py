"""`ner info [MODEL]`: what a model file holds, as a dict (for --format json) or rich tables (a terminal)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from ..io.modelfile import vocab_rows
from ..nn.model import ModelSpec


def model_info(path: Path, meta: dict[str, Any], source: str = "") -> dict[str, Any]:
    """The facts `ner info` shows, JSON-ready."""
    spec = meta["spec"]
    features = ["words" + (f" ({meta.get('config', {}).get('model', {}).get('embeddings')} init)"
                           if meta.get("config", {}).get("model", {}).get("embeddings") else "")]
    if spec.get("case_dim"):
        compounds = meta.get("features", {}).get("compounds", "none")
        features.append(f"casing ({spec['case_dim']}-d)" + {"case": ", hyphenated compounds apart",
                                                            "part": ", hyphenated compounds apart, read through "
                                                                    "their last part"}.get(compounds, ""))
    if spec.get("suffix_dim"):
        features.append(f"suffix of {meta.get('suffixes', {}).get('length', '?')} letters ({spec['suffix_dim']}-d)")
    if spec.get("doc_dim"):
        features.append(f"casing elsewhere in the document ({spec['doc_dim']}-d)")
    if spec.get("gaz_dim"):
        features.append(f"gazetteers {', '.join(meta.get('gazetteer', {}))} ({spec['gaz_dim']}-d)")
    if spec.get("char_dim"):
        features.append(f"character n-grams ({spec['char_dim']}-d)")
    if spec.get("mention_dim"):
        features.append(f"first-pass types of the other mentions, two passes ({spec['mention_dim']}-d)")
    x = ModelSpec(**spec).input_size                               # the one definition of len(x)
    return {
        "path": str(path),
        "source": source,
        "file_size": path.stat().st_size if path.is_file() else None,
        "format_version": meta.get("format_version"),
        "ner_version": meta.get("ner_version"),
        "task": spec["task"],
        "target": meta.get("target"),
        "loss": spec["loss"],
        "activation": spec["activation"],
        "window": spec["window"],
        "sizes": {"vocabulary": spec["vocab_size"], "dim": spec["dim"], "case_dim": spec.get("case_dim", 0),
                  "suffix_dim": spec.get("suffix_dim", 0), "input": x, "hidden": spec["hidden"],
                  "classes": spec["n_classes"]},
        "features": features,
        "tag_scheme": meta.get("tag_scheme", "IOB2"),
        "decode": meta.get("decode", "viterbi"),
        "consistency": meta.get("consistency", 0.0),
        "name_propagation": meta.get("name_propagation"),
        "train_kernel": meta.get("train_kernel"),                  # None: written before train.kernel existed
        "labels": meta["labels"],
        "vocab_size": vocab_rows(meta["vocab"]),
        "fallback_rows": meta["vocab"].get("fallback_rows", 0),
        "scores": meta.get("scores") or {},
        "history": meta.get("history") or [],
        "config": meta.get("config") or {},
    }


def _f1(scores: dict[str, Any] | None) -> str:
    return f"{scores['f1']:.2f}" if scores and scores.get("f1") is not None else "–"


def print_info(info: dict[str, Any], console: Console) -> None:
    """Rich tables: the model, its scores, its history; the config last."""
    t = Table(title=f"model {info['path']}", show_header=False, title_justify="left")
    t.add_column(style="bold")
    t.add_column()
    size = info["file_size"]
    s = info["sizes"]
    rows = [
        ("source", info["source"]),
        ("file", f"{size / 1e6:.1f} MB, format version {info['format_version']}, written by ner "
                 f"{info['ner_version']}" if size is not None else "?"),
        ("task", f"{info['task']}" + (f" (target {info['target']})" if info["target"] else "")),
        ("loss", f"{info['loss']}, decode {info['decode']}, tags {info['tag_scheme']}"
                 + (f", document consistency {info['consistency']:g}" if info["consistency"] else "")
                 + (f", name propagation {info['name_propagation']}" if info.get("name_propagation") else "")),
        ("network", f"window {info['window']}, x = {s['input']}, hidden {s['hidden']} {info['activation']}, "
                    f"{s['classes']} outputs"),
        ("features", ", ".join(info["features"])),
        ("sizes", f"word vectors {s['vocabulary']} x {s['dim']}" + (f", casing {s['case_dim']}-d" if s["case_dim"]
                                                                    else "")
         + (f", suffix {s['suffix_dim']}-d" if s["suffix_dim"] else "")),
        ("labels", " ".join(info["labels"])),
        ("vocabulary", f"{info['vocab_size']:,} words" + (
            f", of which {info['fallback_rows']:,} untrained fallback words (pretrained vectors)"
            if info["fallback_rows"] else "")),
    ]
    if info.get("train_kernel"):
        rows.append(("trained with", {"numba": "numba's compiled loops (train.kernel)",
                                      "numpy": "numpy only (train.kernel)"}.get(info["train_kernel"],
                                                                                 info["train_kernel"])))
    scores = info["scores"]
    if scores:
        saved = [f"{name} F1 {_f1(scores.get(name))}" for name in ("dev", "test") if scores.get(name)]
        rows.append(("scores", (f"epoch {scores['epoch']}: " if scores.get("epoch") else "") + ", ".join(saved)))
    for k, v in rows:
        t.add_row(k, str(v))
    console.print(t)
    for name in ("dev", "test"):
        sc = scores.get(name) if scores else None
        if sc and sc.get("per_type"):
            pt = Table(title=f"{name} scores (conlleval)", title_justify="left")
            for col in ("type", "precision", "recall", "F1", "gold"):
                pt.add_column(col, justify="right" if col != "type" else "left")
            for typ, v in sorted(sc["per_type"].items()):
                pt.add_row(typ, f"{v['precision']:.2f}", f"{v['recall']:.2f}", f"{v['f1']:.2f}", str(v["support"]))
            pt.add_row("all", f"{sc['precision']:.2f}", f"{sc['recall']:.2f}", f"{sc['f1']:.2f}",
                       str(sc["phrases_gold"]), style="bold")
            console.print(pt)
    history = info["history"]
    if history:
        types = sorted({t for h in history for t in (h.get("dev_f1_per_type") or {})})
        ht = Table(title="training history", title_justify="left")
        for col in ("epoch", "loss", "dev F1", *types, "lr", "seconds"):
            ht.add_column(col, justify="right")
        best = scores.get("epoch") if scores else None
        for h in history:
            per = h.get("dev_f1_per_type") or {}
            ht.add_row(str(h["epoch"]), f"{h['loss']:.4f}",
                       f"{h['dev_f1']:.2f}" if h.get("dev_f1") is not None else "–",
                       *[f"{per[t]:.2f}" if t in per else "–" for t in types], f"{h['lr']:.2e}",
                       f"{h['seconds']:.1f}", style="bold" if h["epoch"] == best else None)
        console.print(ht)
    else:
        console.print("training history: none saved in this file", style="dim")
    if info["config"]:
        import yaml

        console.print("config:", style="bold")
        console.print(yaml.safe_dump(info["config"], sort_keys=False).rstrip(), markup=False, highlight=False)
