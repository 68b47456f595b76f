"""A minimal BERT encoder in torch that loads the MiniLM-L6 base weights (training time only).

Written for this project instead of depending on a model library: the architecture is the
plain post-layer-norm BERT encoder, small enough to state here, and owning it keeps the
training environment to torch + safetensors and makes the ONNX graph exported from it
simple (only MatMul/Add/Softmax/LayerNorm/Gelu-level ops, which dynamic int8 quantization
handles). The classifier is mean pooling over real tokens followed by one linear layer.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

HIDDEN = 384
HEADS = 12
LAYERS = 6
FFN = 1536
VOCAB = 30522
POSITIONS = 512
EPS = 1e-12


class _Layer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.q = nn.Linear(HIDDEN, HIDDEN)
        self.k = nn.Linear(HIDDEN, HIDDEN)
        self.v = nn.Linear(HIDDEN, HIDDEN)
        self.o = nn.Linear(HIDDEN, HIDDEN)
        self.ln1 = nn.LayerNorm(HIDDEN, eps=EPS)
        self.up = nn.Linear(HIDDEN, FFN)
        self.down = nn.Linear(FFN, HIDDEN)
        self.ln2 = nn.LayerNorm(HIDDEN, eps=EPS)
        self.drop = nn.Dropout(0.1)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        d = HIDDEN // HEADS

        def split(y: torch.Tensor) -> torch.Tensor:
            return y.view(b, t, HEADS, d).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        att = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + bias
        ctx = torch.matmul(torch.softmax(att, dim=-1), v).transpose(1, 2).reshape(b, t, HIDDEN)
        x = self.ln1(x + self.drop(self.o(ctx)))
        return self.ln2(x + self.drop(self.down(nn.functional.gelu(self.up(x)))))


class Classifier(nn.Module):
    """MiniLM-L6 encoder, masked mean pooling, one logit (injection vs not)."""

    def __init__(self) -> None:
        super().__init__()
        self.word = nn.Embedding(VOCAB, HIDDEN)
        self.pos = nn.Embedding(POSITIONS, HIDDEN)
        self.token_type = nn.Embedding(2, HIDDEN)
        self.ln = nn.LayerNorm(HIDDEN, eps=EPS)
        self.layers = nn.ModuleList(_Layer() for _ in range(LAYERS))
        self.head = nn.Linear(HIDDEN, 1)
        self.drop = nn.Dropout(0.1)

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        t = input_ids.shape[1]
        positions = torch.arange(t, device=input_ids.device).unsqueeze(0)
        x = self.word(input_ids) + self.pos(positions) + self.token_type(torch.zeros_like(input_ids))
        return self.drop(self.ln(x))

    @staticmethod
    def attention_bias(attention_mask: torch.Tensor) -> torch.Tensor:
        return (1.0 - attention_mask.to(torch.float32))[:, None, None, :] * -1e4

    def top(self, x: torch.Tensor, attention_mask: torch.Tensor, first: int) -> torch.Tensor:
        """Layers from `first` on, pooling and head, over hidden states `x`."""
        bias = self.attention_bias(attention_mask)
        for layer in self.layers[first:]:
            x = layer(x, bias)
        mask = attention_mask.to(x.dtype)
        pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1.0)
        return self.head(self.drop(pooled)).squeeze(-1)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.top(self.embed(input_ids), attention_mask, 0)


_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "o": "attention.output.dense",
    "ln1": "attention.output.LayerNorm",
    "up": "intermediate.dense",
    "down": "output.dense",
    "ln2": "output.LayerNorm",
}


def load_base(model: Classifier, state: dict[str, Any]) -> None:
    """Copy the base checkpoint's tensors (BERT names) into `model`; the head stays as seeded."""

    def get(name: str) -> torch.Tensor:
        for prefix in ("", "bert.", "0.auto_model."):
            if prefix + name in state:
                return state[prefix + name]
        raise KeyError(name)

    with torch.no_grad():
        model.word.weight.copy_(get("embeddings.word_embeddings.weight"))
        model.pos.weight.copy_(get("embeddings.position_embeddings.weight"))
        model.token_type.weight.copy_(get("embeddings.token_type_embeddings.weight"))
        model.ln.weight.copy_(get("embeddings.LayerNorm.weight"))
        model.ln.bias.copy_(get("embeddings.LayerNorm.bias"))
        for i, layer in enumerate(model.layers):
            for ours, theirs in _NAMES.items():
                module = getattr(layer, ours)
                module.weight.copy_(get(f"encoder.layer.{i}.{theirs}.weight"))
                module.bias.copy_(get(f"encoder.layer.{i}.{theirs}.bias"))
