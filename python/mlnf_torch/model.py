"""MLNetForgetting's RoBERTa for masked-LM pretraining, parameter for parameter under the Hugging Face names
that our .NET model uses (roberta.embeddings.*, roberta.encoder.layer.N.*, lm_head.dense/layer_norm/bias).
The MLM decoder is linear(h, E, lm_head.bias) with E read at forward time, so a reset of E in place also
resets the decoder, and no tensor is registered twice (DDP and the optimizer see E once)."""
import math

import torch
import torch.nn.functional as F
from torch import nn

IGNORE_INDEX = -100


class Config:
    def __init__(self, cfg):
        self.raw = cfg
        self.vocab_size = cfg["vocab_size"]
        self.hidden = cfg["hidden_size"]
        self.layers = cfg["num_hidden_layers"]
        self.heads = cfg["num_attention_heads"]
        self.intermediate = cfg["intermediate_size"]
        self.max_positions = cfg["max_position_embeddings"]
        self.hidden_dropout = cfg.get("hidden_dropout_prob", 0.1)
        self.attention_dropout = cfg.get("attention_probs_dropout_prob", 0.1)
        self.eps = cfg.get("layer_norm_eps", 1e-5)
        self.pad = cfg.get("pad_token_id", 1)
        self.init_std = cfg.get("initializer_range", 0.02)
        if self.hidden % self.heads:
            raise ValueError(f"hidden_size {self.hidden} is not a multiple of num_attention_heads {self.heads}")


class _Dense(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.dense = nn.Linear(n_in, n_out)


class _SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.query, self.key, self.value = (nn.Linear(c.hidden, c.hidden) for _ in range(3))


class _DenseNorm(nn.Module):
    """attention.output and output: a dense projection to the hidden size and the LayerNorm after the residual."""

    def __init__(self, n_in, c):
        super().__init__()
        self.dense = nn.Linear(n_in, c.hidden)
        self.LayerNorm = nn.LayerNorm(c.hidden, eps=c.eps)


class _Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = _SelfAttention(c)
        self.output = _DenseNorm(c.hidden, c)


class Layer(nn.Module):
    """Post-LN transformer layer (HF RoBERTa): attention -> dense -> dropout -> LN(+x); GELU FFN likewise."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        self.attention = _Attention(c)
        self.intermediate = _Dense(c.hidden, c.intermediate)
        self.output = _DenseNorm(c.intermediate, c)

    def forward(self, x, key_blocked):
        b, t, d = x.shape
        h = self.c.heads
        a = self.attention.self

        def split(y):
            return y.view(b, t, h, d // h).transpose(1, 2)

        q, k, v = split(a.query(x)), split(a.key(x)), split(a.value(x))
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(d // h)
        probs = torch.softmax(scores.masked_fill(key_blocked, float("-inf")), dim=-1)
        probs = F.dropout(probs, self.c.attention_dropout, self.training)
        ctx = (probs @ v).transpose(1, 2).reshape(b, t, d)
        o = self.attention.output
        attn = o.LayerNorm(F.dropout(o.dense(ctx), self.c.hidden_dropout, self.training) + x)
        inter = F.gelu(self.intermediate.dense(attn))
        out = self.output
        return out.LayerNorm(F.dropout(out.dense(inter), self.c.hidden_dropout, self.training) + attn)


class _Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden, padding_idx=c.pad)
        self.position_embeddings = nn.Embedding(c.max_positions, c.hidden, padding_idx=c.pad)
        self.token_type_embeddings = nn.Embedding(1, c.hidden)
        self.LayerNorm = nn.LayerNorm(c.hidden, eps=c.eps)

    def forward(self, ids):
        # RoBERTa positions: pad + 1 + index among non-pad tokens; pads keep the pad position.
        real = ids.ne(self.c.pad).long()
        positions = torch.cumsum(real, dim=1) * real + self.c.pad
        x = self.word_embeddings(ids) + self.position_embeddings(positions) + self.token_type_embeddings.weight[0]
        return F.dropout(self.LayerNorm(x), self.c.hidden_dropout, self.training)


class _Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList(Layer(c) for _ in range(c.layers))


class _Roberta(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = _Embeddings(c)
        self.encoder = _Encoder(c)


class _LMHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden, c.hidden)
        self.layer_norm = nn.LayerNorm(c.hidden, eps=c.eps)
        self.bias = nn.Parameter(torch.zeros(c.vocab_size))


class RobertaForMaskedLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.roberta = _Roberta(c)
        self.lm_head = _LMHead(c)

    @property
    def token_embeddings(self):
        return self.roberta.embeddings.word_embeddings.weight

    def initialize(self, generator):
        """HF RoBERTa initialisation: Linear and Embedding N(0, σ²) (padding rows 0), biases 0, LayerNorm 1/0."""
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    m.weight.normal_(0.0, self.c.init_std, generator=generator)
                    m.bias.zero_()
                elif isinstance(m, nn.Embedding):
                    m.weight.normal_(0.0, self.c.init_std, generator=generator)
                    if m.padding_idx is not None:
                        m.weight[m.padding_idx].zero_()
                elif isinstance(m, nn.LayerNorm):
                    m.weight.fill_(1.0)
                    m.bias.zero_()
            self.lm_head.bias.zero_()

    def load_hf_state(self, state):
        """Loads exactly: every parameter present with its shape, nothing left over (both lists named)."""
        own = dict(self.named_parameters())
        missing = sorted(set(own) - set(state))
        extra = sorted(set(state) - set(own))
        shapes = [f"{k}: {list(state[k].shape)} in the file, {list(own[k].shape)} in the model"
                  for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
        if missing or extra or shapes:
            raise ValueError(f"weights do not fit the config: missing {missing}, unexpected {extra}, mis-shaped {shapes}")
        with torch.no_grad():
            for k, p in own.items():
                p.copy_(state[k])

    def hidden(self, ids, attention_mask):
        x = self.roberta.embeddings(ids)
        blocked = attention_mask.eq(0)[:, None, None, :]
        for layer in self.roberta.encoder.layer:
            x = layer(x, blocked)
        return x

    def mlm_logits(self, h):
        head = self.lm_head
        return F.linear(head.layer_norm(F.gelu(head.dense(h))), self.token_embeddings, head.bias)

    def forward(self, ids, attention_mask, labels):
        """Sum of the cross-entropy over the predicted positions (labels != -100) and their number. The
        vocabulary projection is computed only there, as in the .NET model."""
        h = self.hidden(ids, attention_mask)
        flat = labels.reshape(-1)
        index = flat.ne(IGNORE_INDEX).nonzero().squeeze(1)
        picked = h.reshape(-1, h.shape[-1]).index_select(0, index)
        logits = self.mlm_logits(picked)
        return F.cross_entropy(logits, flat.index_select(0, index), reduction="sum"), index.numel()

    def reset_token_embeddings(self, generator=None, values=None):
        """The reset of active forgetting: E redrawn in place from N(0, σ²) with the padding row zero (or copied
        from `values`), so the tied decoder and the optimizer keep the same tensor. The draw is made on the CPU
        with a CPU generator whatever the device, so every rank and device gets the same E (and the same E as
        the .NET trainer, whose CPU generator is seeded alike)."""
        with torch.no_grad():
            e = self.token_embeddings
            if values is None:
                values = torch.empty(e.shape, dtype=torch.float32).normal_(0.0, self.c.init_std, generator=generator)
                values[self.c.pad].zero_()
            e.copy_(values)
