"""The PyTorch peer of the vs-pytorch benchmark: a plain PyTorch (eager, 1.13) RoBERTa-style MLM of the same
architecture as MLNetForgetting's (word + position + token-type embeddings, post-LN layers, exact GELU, MLM head
with the decoder tied to the word embeddings), trained with AdamW (betas 0.9/0.98, eps 1e-6, decay 0.01 on
matrices), clipping 0.5, 15% masking (80/10/10), dropout 0.1. Like ours it projects only the masked positions onto
the vocabulary (--full-logits projects every position, as Hugging Face's RobertaForMaskedLM does).

Speaks the coordinator's line protocol on stdin/stdout: "train N", "infer N", "matmul N", "quit"; one JSON line back.
Reads the token ids the coordinator wrote (ids.bin, int32, rows x seq). The ready line names the BLAS the process
actually loaded (peer_blas.py).
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from peer_blas import loaded_blas, matmul_gflops

p = argparse.ArgumentParser()
for name in ("work", "special"):
    p.add_argument("--" + name, required=True)
for name, default in (("rows", 0), ("seq", 128), ("batch", 32), ("infer-batch", 64), ("matmul-n", 2048), ("mask-id", 4), ("pad-id", 1), ("threads", 2)):
    p.add_argument("--" + name, type=int, default=default)
p.add_argument("--full-logits", action="store_true")
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(1)
V, D, L, H, FF, EPS = 8192, 256, 4, 4, 1024, 1e-5


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(D, D) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(D, eps=EPS), nn.LayerNorm(D, eps=EPS)
        self.fc1, self.fc2 = nn.Linear(D, FF), nn.Linear(FF, D)
        self.drop = nn.Dropout(0.1)

    def forward(self, x, key_bias):
        b, t, _ = x.shape
        split = lambda y: y.view(b, t, H, D // H).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(D // H) + key_bias
        ctx = (self.drop(torch.softmax(scores, -1)) @ v).transpose(1, 2).reshape(b, t, D)
        x = self.ln1(self.drop(self.o(ctx)) + x)
        return self.ln2(self.drop(self.fc2(F.gelu(self.fc1(x)))) + x)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.word = nn.Embedding(V, D, padding_idx=a.pad_id)
        self.pos = nn.Embedding(a.seq + a.pad_id + 1, D)
        self.token_type = nn.Embedding(1, D)
        self.ln = nn.LayerNorm(D, eps=EPS)
        self.drop = nn.Dropout(0.1)
        self.layers = nn.ModuleList(Layer() for _ in range(L))
        self.head_dense, self.head_ln = nn.Linear(D, D), nn.LayerNorm(D, eps=EPS)
        self.head_bias = nn.Parameter(torch.zeros(V))
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                m.weight.data.normal_(0, 0.02)
            if isinstance(m, nn.Linear):
                m.bias.data.zero_()

    def hidden(self, ids, mask):
        positions = torch.cumsum(mask, 1) * mask + a.pad_id
        x = self.drop(self.ln(self.word(ids) + self.pos(positions) + self.token_type.weight[0]))
        key_bias = (1.0 - mask.float())[:, None, None, :] * -1e9
        for layer in self.layers:
            x = layer(x, key_bias)
        return x

    def mlm_logits(self, h):
        return F.linear(self.head_ln(F.gelu(self.head_dense(h))), self.word.weight, self.head_bias)


ids_all = torch.from_file(f"{a.work}/ids.bin", size=a.rows * a.seq, dtype=torch.int32).long().view(a.rows, a.seq)
special = torch.tensor([int(s) for s in a.special.split(",")])
model = Model()
decay = [p_ for n, p_ in model.named_parameters() if p_.dim() >= 2]
no_decay = [p_ for n, p_ in model.named_parameters() if p_.dim() < 2]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-4, betas=(0.9, 0.98), eps=1e-6)
cursor = 0


def mask_batch(ids):
    labels = ids.clone()
    eligible = ~torch.isin(ids, special)
    chosen = (torch.rand(ids.shape) < 0.15) & eligible
    labels[~chosen] = -100
    u = torch.rand(ids.shape)
    inputs = ids.clone()
    inputs[chosen & (u < 0.8)] = a.mask_id
    rand = chosen & (u >= 0.8) & (u < 0.9)
    inputs[rand] = torch.randint(len(special), V, (int(rand.sum()),))
    return inputs, labels


def train_step():
    global cursor
    idx = torch.arange(cursor, cursor + a.batch) % a.rows
    cursor += a.batch
    ids = ids_all[idx]
    mask = torch.ones_like(ids)
    inputs, labels = mask_batch(ids)
    h = model.hidden(inputs, mask)
    if a.full_logits:
        loss = F.cross_entropy(model.mlm_logits(h).view(-1, V), labels.view(-1), ignore_index=-100)
    else:
        flat = labels.view(-1)
        sel = flat.ne(-100).nonzero().squeeze(1)
        loss = F.cross_entropy(model.mlm_logits(h.reshape(-1, D).index_select(0, sel)), flat.index_select(0, sel))
    value = loss.item()
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    opt.step()
    return value


def infer_step():
    ids = ids_all[: a.infer_batch]
    mask = torch.ones_like(ids)
    with torch.inference_mode():
        h = model.hidden(ids, mask)
        m = mask.unsqueeze(-1).float()
        pooled = (h * m).sum(1) / m.sum(1).clamp_min(1.0)
        pooled.numpy().copy()


# The BLAS actually loaded goes into the ready line: the coordinator refuses to compare against the reference BLAS.
print(json.dumps({"framework": f"PyTorch {torch.__version__}", "threads": torch.get_num_threads(), **loaded_blas(),
                  "head": "full logits" if a.full_logits else "masked positions only",
                  "parameters": sum(p_.numel() for p_ in model.parameters())}), flush=True)
for line in sys.stdin:
    cmd = line.split()
    if not cmd or cmd[0] == "quit":
        break
    n = int(cmd[1])
    if cmd[0] in ("train", "infer"):
        model.train(cmd[0] == "train")
        step = train_step if cmd[0] == "train" else infer_step
        times = []
        for _ in range(n):
            t = time.perf_counter()
            step()
            times.append(time.perf_counter() - t)
        print(json.dumps({"step_s": times}), flush=True)
    elif cmd[0] == "matmul":
        print(json.dumps({"gflops": matmul_gflops(a.matmul_n, n)}), flush=True)
    else:
        raise SystemExit(f"unknown command {line!r}")
