"""Independent plain-PyTorch RoBERTa (no transformers library) for checking MLNetForgetting exports.

Architecture (Hugging Face RoBERTa): word + position + token-type embeddings, LayerNorm, dropout;
position ids start at pad_token_id + 1 and count only real tokens (cumsum of the non-pad mask);
post-LN layers (self-attention -> dense -> [adapter] -> LayerNorm(x + residual); intermediate dense ->
exact GELU -> dense -> [adapter] -> LayerNorm(x + residual)); MLM head dense -> GELU -> LayerNorm ->
decoder tied to the word embeddings + bias; classification head on <s>: dense -> tanh -> out_proj.
Bottleneck adapters (if present): y = x + up(f(down(x))), f = identity (LiST) or ReLU (Houlsby).
Works with PyTorch 1.13 (Debian python3-torch).
"""
import json
import math
import os
import struct

import torch

_DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "I64": torch.int64, "I32": torch.int32}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        buf = bytearray(data[8 + n + begin: 8 + n + end])
        t = torch.frombuffer(buf, dtype=_DTYPES[info["dtype"]]) if len(buf) else torch.empty(0, dtype=_DTYPES[info["dtype"]])
        out[name] = t.reshape(info["shape"]).clone()
    return out


def load_state_dict(directory, fmt="auto"):
    st, pt = os.path.join(directory, "model.safetensors"), os.path.join(directory, "pytorch_model.bin")
    if fmt == "pytorch" or (fmt == "auto" and not os.path.exists(st)):
        return torch.load(pt, map_location="cpu")
    return read_safetensors(st)


class Reference:
    def __init__(self, directory, fmt="auto"):
        with open(os.path.join(directory, "config.json")) as f:
            self.cfg = json.load(f)
        assert self.cfg["hidden_act"] == "gelu" and self.cfg.get("position_embedding_type", "absolute") == "absolute"
        self.w = {k: v.double() if v.is_floating_point() else v for k, v in load_state_dict(directory, fmt).items()}
        ext = self.cfg.get("mlnetforgetting", {}).get("adapters")
        self.adapter_relu = ext is not None and ext.get("variant") == "Houlsby"
        self.eps = self.cfg["layer_norm_eps"]
        self.pad = self.cfg["pad_token_id"]

    def _ln(self, x, prefix):
        return torch.nn.functional.layer_norm(x, x.shape[-1:], self.w[prefix + ".weight"], self.w[prefix + ".bias"], self.eps)

    def _lin(self, x, prefix, bias=True):
        return torch.nn.functional.linear(x, self.w[prefix + ".weight"], self.w.get(prefix + ".bias") if bias else None)

    def _adapter(self, x, prefix):
        if prefix + ".adapter.down.weight" not in self.w:
            return x
        h = torch.nn.functional.linear(x, self.w[prefix + ".adapter.down.weight"])
        if self.adapter_relu:
            h = torch.relu(h)
        return x + torch.nn.functional.linear(h, self.w[prefix + ".adapter.up.weight"])

    def hidden(self, ids, mask):
        """ids, mask: (B, T) int64. Returns (B, T, d) float64 (eval mode: no dropout)."""
        w = self.w
        real = ids.ne(self.pad).long()
        positions = torch.cumsum(real, dim=1) * real + self.pad
        x = w["roberta.embeddings.word_embeddings.weight"][ids] + w["roberta.embeddings.position_embeddings.weight"][positions] \
            + w["roberta.embeddings.token_type_embeddings.weight"][0]
        x = self._ln(x, "roberta.embeddings.LayerNorm")
        heads = self.cfg["num_attention_heads"]
        b, t, d = x.shape
        key_bias = (1.0 - mask.double())[:, None, None, :] * torch.finfo(torch.float64).min
        for i in range(self.cfg["num_hidden_layers"]):
            p = f"roberta.encoder.layer.{i}"

            def split(y):
                return y.view(b, t, heads, d // heads).transpose(1, 2)

            q, k, v = (split(self._lin(x, f"{p}.attention.self.{n}")) for n in ("query", "key", "value"))
            scores = q @ k.transpose(-1, -2) / math.sqrt(d // heads) + key_bias
            ctx = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, t, d)
            attn = self._ln(self._adapter(self._lin(ctx, f"{p}.attention.output.dense"), f"{p}.attention.output") + x, f"{p}.attention.output.LayerNorm")
            inter = torch.nn.functional.gelu(self._lin(attn, f"{p}.intermediate.dense"))
            x = self._ln(self._adapter(self._lin(inter, f"{p}.output.dense"), f"{p}.output") + attn, f"{p}.output.LayerNorm")
        return x

    def mlm_logits(self, hidden):
        h = torch.nn.functional.gelu(self._lin(hidden, "lm_head.dense"))
        h = self._ln(h, "lm_head.layer_norm")
        return torch.nn.functional.linear(h, self.w["lm_head.decoder.weight"], self.w["lm_head.decoder.bias"])

    def classifier_logits(self, hidden):
        if "classifier.out_proj.weight" not in self.w:
            return None
        h = torch.tanh(self._lin(hidden[:, 0], "classifier.dense"))
        return self._lin(h, "classifier.out_proj")
