"""The small-model tier: a fine-tuned MiniLM-L6 encoder, int8 ONNX, run by onnxruntime.

The linear tier is fast but reads words, not intent, so texts of an unseen source land in
its uncertain band. This tier re-reads only those (`cascade.py` decides which), which keeps
its cost off the clear cases. Everything it needs ships inside the package
(`detect/models/injection-minilm.*`): the ONNX graph, the WordPiece tokenizer and a JSON
file of calibration data and the graph's SHA-256. Loading never touches the network:
onnxruntime reads a local file and `tokenizers` parses a local JSON.

A text longer than one model window (`MAX_TOKENS`) is cut into overlapping token windows;
the text's evidence is its best window, and the cascade discounts that for the number of
chances its length gave (the same discipline as the linear tier, see `cascade.py`).
Results are cached by content hash in a bounded LRU, so a result re-sent by an upstream or
re-scored leaf by leaf costs one hash.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mcpwarden.detect.text.cascade import Cascade

ONNX_FILE = "injection-minilm.onnx"
TOKENIZER_FILE = "injection-minilm-tokenizer.json"
META_FILE = "injection-minilm.json"
MAX_TOKENS = 128  # one window, [CLS] and [SEP] included (the length the model was tuned at)
STRIDE = 96  # windows overlap by 32 tokens, so a sentence across a cut is whole in one
MAX_WINDOWS = 16  # windows run per text; the caller picks which text (see cascade.py)
CACHE_SIZE = 4096  # texts remembered by content hash


class SmallModelError(RuntimeError):
    """The small model's files are missing, corrupt or do not belong together."""


@dataclass(frozen=True, slots=True)
class Window:
    """One model input: token ids with [CLS]/[SEP], and the characters of the text it covers."""

    ids: tuple[int, ...]
    span: tuple[int, int]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class SmallModel:
    """The loaded tier: tokenizer, ONNX session, calibration and a content-hash cache."""

    def __init__(self, folder: Path) -> None:
        # Imported here so that a configuration without the tier never loads onnxruntime.
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - both are runtime dependencies
            raise SmallModelError(f"the small-model tier needs onnxruntime and tokenizers: {exc}") from None
        paths = {name: folder / name for name in (ONNX_FILE, TOKENIZER_FILE, META_FILE)}
        missing = [name for name, path in paths.items() if not path.is_file()]
        if missing:
            raise SmallModelError(
                f"small model files missing from {folder}: {', '.join(missing)}; run `make models`"
            )
        try:
            self.meta: dict[str, Any] = json.loads(paths[META_FILE].read_text("utf-8"))
            pinned = self.meta["onnx_sha256"]
        except (ValueError, KeyError, TypeError) as exc:
            raise SmallModelError(f"{META_FILE} is not a small-model description: {exc}") from None
        if _sha256(paths[ONNX_FILE]) != pinned:
            raise SmallModelError(f"{ONNX_FILE} does not match the SHA-256 in {META_FILE} (corrupt or stale)")
        try:
            self.tokenizer = Tokenizer.from_file(str(paths[TOKENIZER_FILE]))
        except Exception as exc:  # the Rust side raises plain Exception subclasses
            raise SmallModelError(f"{TOKENIZER_FILE} cannot be read: {exc}") from None
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # one core per request: the gateway runs many at once
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(
                str(paths[ONNX_FILE]), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise SmallModelError(f"{ONNX_FILE} cannot be loaded by onnxruntime: {exc}") from None
        try:
            self.cascade = Cascade.from_meta(self.meta)
        except ValueError as exc:
            raise SmallModelError(str(exc)) from None
        self.empty_logit = float(self.meta.get("empty_logit", -10.0))
        self.cls_id = int(self.meta.get("cls_id", 101))
        self.sep_id = int(self.meta.get("sep_id", 102))
        self.errors = 0  # request-time failures, each answered by the linear verdict (scan.py)
        self._cache: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    def windows(self, text: str) -> list[Window]:
        """Overlapping token windows covering all of `text` (none for a text without tokens)."""
        return token_windows(self.tokenizer, text, self.cls_id, self.sep_id)

    def window_logits(self, windows: list[Window]) -> npt.NDArray[np.float32]:
        """The model's logit for each window (one batch, padded to its longest window)."""
        if not windows:
            return np.zeros(0, dtype=np.float32)
        width = max(len(w.ids) for w in windows)
        ids = np.zeros((len(windows), width), dtype=np.int64)
        mask = np.zeros((len(windows), width), dtype=np.int64)
        for i, w in enumerate(windows):
            ids[i, : len(w.ids)] = w.ids
            mask[i, : len(w.ids)] = 1
        (out,) = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
        return np.asarray(out, dtype=np.float32).reshape(-1)

    def text_logit(self, text: str) -> float:
        """The best window's logit of `text` (its first MAX_WINDOWS windows), cached by content."""
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        windows = self.windows(text)[:MAX_WINDOWS]
        logit = float(self.window_logits(windows).max()) if windows else self.empty_logit
        with self._lock:
            self._cache[key] = logit
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return logit


def token_windows(tokenizer: Any, text: str, cls_id: int = 101, sep_id: int = 102) -> list[Window]:
    """Cut `text`'s WordPiece tokens into windows of MAX_TOKENS (with [CLS]/[SEP]) every STRIDE.

    Shared by training (`scripts/minilm/`) and runtime, so the model sees the same windows.
    """
    encoding = tokenizer.encode(text, add_special_tokens=False)
    ids: list[int] = encoding.ids
    offsets: list[tuple[int, int]] = encoding.offsets
    inner = MAX_TOKENS - 2
    out: list[Window] = []
    start = 0
    while start < len(ids):
        end = min(start + inner, len(ids))
        out.append(Window((cls_id, *ids[start:end], sep_id), (offsets[start][0], offsets[end - 1][1])))
        if end == len(ids):
            break
        start += STRIDE
    return out


def models_folder() -> Path:
    """Where the shipped files live inside the installed package."""
    return Path(str(resources.files("mcpwarden.detect") / "models"))


@lru_cache(maxsize=1)
def default_small_model() -> SmallModel:
    """The shipped small model, loaded once; `SmallModelError` if its files are unusable."""
    return SmallModel(models_folder())
