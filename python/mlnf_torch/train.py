"""Active-forgetting masked-LM pretraining with torchrun + DistributedDataParallel, matching the .NET trainer
(src/MLNetForgetting/Forgetting/ActiveForgetting.cs, Training/AdamEF.cs, Training/TrainingLoop.cs):

  loss = MLM(batch); backward; clip one global norm over every trainable tensor
  lr(body) = S(n); lr(E) = S((n * (T div K)) mod T); AdamEF step, E's bias correction on its own counter
  if K > 0 and n mod K == 0 and n < T: E redrawn in place from N(0, 0.02²) (pad row 0), E's Adam state reset

Everything random in update n comes from (seed, n) alone: the masks (numpy, drawn for the whole global batch on
every rank, then each rank takes its rows), dropout (torch.manual_seed per update and rank) and the new E
(a torch.Generator seeded with the same StepSeed(seed ^ 0x5EED, n) as .NET, identical on every rank). So ranks
agree without communicating, the loss does not depend on the number of processes, and a run resumed from a
checkpoint continues exactly. Run `python3 -m mlnf_torch.train --help`; docs/distributed.md shows torchrun lines.
"""
import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch
import torch.distributed as dist

from . import io
from .model import IGNORE_INDEX, Config, RobertaForMaskedLM

BODY, EMBEDDINGS = "body", "embeddings"
_M64 = (1 << 64) - 1


def step_seed(seed, step):
    """TrainingLoop.StepSeed of the .NET code: mixes the run seed and the update number into one 31-bit seed."""
    x = (((seed & 0xFFFFFFFF) * 0x9E3779B97F4A7C15) & _M64) ^ (((step & _M64) * 0xBF58476D1CE4E5B9) & _M64)
    x ^= x >> 31
    x = (x * 0x94D049BB133111EB) & _M64
    x ^= x >> 29
    return x & 0x7FFFFFFF


def warmup_poly(rate, warmup, total, update, power=1.0, end=0.0):
    """S(n) = peak·n/W for n ≤ W, else end + (peak − end)·((T − n)/(T − W))^power (WarmupPolynomialDecaySchedule)."""
    if update <= 0:
        return 0.0 if warmup > 0 else rate
    if warmup > 0 and update <= warmup:
        return rate * update / warmup
    if update >= total:
        return end
    return end + (rate - end) * ((total - update) / max(1, total - warmup)) ** power


def schedules(s):
    """(S, η_e) as functions of the update, as ActiveForgetting.Schedules builds them."""
    total, k = s.updates, s.reset_interval
    warmup = int(round(s.warmup_fraction * total))  # banker's rounding, like .NET's Math.Round
    body = lambda n: warmup_poly(s.lr, warmup, total, n)
    if k <= 0:
        return body, lambda n: warmup_poly(s.emb_lr, warmup, total, n)
    stretch = max(1, total // k)
    return body, lambda n: warmup_poly(s.emb_lr, warmup, total, n * stretch % total)


def resets_after(n, k, total):
    return k > 0 and n % k == 0 and n < total


class AdamEF:
    """Adam with decoupled weight decay (on tensors of 2+ dimensions only) and explicit per-group state:
    reset(EMBEDDINGS) zeroes that group's moments and restarts its bias-correction counter (Training/AdamEF.cs)."""

    def __init__(self, groups, schedules_by_group, weight_decay, betas, eps):
        self.groups = groups  # name -> list of parameters
        self.schedules = schedules_by_group
        self.wd, (self.b1, self.b2), self.eps = weight_decay, betas, eps
        self.step_count = {g: 0 for g in groups}
        self.m = {g: [torch.zeros_like(p) for p in ps] for g, ps in groups.items()}
        self.v = {g: [torch.zeros_like(p) for p in ps] for g, ps in groups.items()}
        self.lr = {g: 0.0 for g in groups}

    def parameters(self):
        return [p for ps in self.groups.values() for p in ps]

    @torch.no_grad()
    def step(self, update):
        for g, ps in self.groups.items():
            lr = self.lr[g] = self.schedules[g](update)
            self.step_count[g] += 1
            bc1, bc2 = 1 - self.b1 ** self.step_count[g], 1 - self.b2 ** self.step_count[g]
            for p, m, v in zip(ps, self.m[g], self.v[g]):
                if p.grad is None:
                    continue
                if self.wd != 0 and p.dim() >= 2:
                    p.mul_(1 - lr * self.wd)
                m.mul_(self.b1).add_(p.grad, alpha=1 - self.b1)
                v.mul_(self.b2).addcmul_(p.grad, p.grad, value=1 - self.b2)
                p.addcdiv_(m, v.sqrt().div_(bc2 ** 0.5).add_(self.eps), value=-lr / bc1)

    @torch.no_grad()
    def reset(self, g):
        for t in self.m[g] + self.v[g]:
            t.zero_()
        self.step_count[g] = 0

    def state_dict(self):
        return {"step": dict(self.step_count), "m": {g: [t.cpu() for t in ts] for g, ts in self.m.items()},
                "v": {g: [t.cpu() for t in ts] for g, ts in self.v.items()}}

    @torch.no_grad()
    def load_state_dict(self, state):
        self.step_count = dict(state["step"])
        for g in self.groups:
            for mine, saved in zip(self.m[g] + self.v[g], state["m"][g] + state["v"][g]):
                mine.copy_(saved)


class Masker:
    """BERT/RoBERTa dynamic masking as MlmMasker: each non-special token selected with probability p; of those
    80 % become <mask>, 10 % a random non-special id, 10 % stay; at least one prediction per batch."""

    def __init__(self, vocab_size, mask_id, pad_id, special_ids, p=0.15):
        self.mask_id, self.pad_id, self.p = mask_id, pad_id, p
        self.special = np.zeros(vocab_size, dtype=bool)
        self.special[list(special_ids) + [mask_id, pad_id]] = True
        self.replacements = np.flatnonzero(~self.special)

    def __call__(self, sequences, rng):
        width = max(len(s) for s in sequences)
        ids = np.full((len(sequences), width), self.pad_id, dtype=np.int64)
        attention = np.zeros_like(ids)
        for r, s in enumerate(sequences):
            ids[r, :len(s)] = s
            attention[r, :len(s)] = 1
        eligible = (attention == 1) & ~self.special[ids]
        selected = eligible & (rng.random(ids.shape) < self.p)
        if not selected.any() and eligible.any():
            flat = np.flatnonzero(eligible)
            selected.flat[flat[rng.integers(len(flat))]] = True
        labels = np.where(selected, ids, IGNORE_INDEX)
        u = rng.random(ids.shape)
        random_ids = self.replacements[rng.integers(len(self.replacements), size=ids.shape)]
        ids = np.where(selected & (u < 0.8), self.mask_id, np.where(selected & (u >= 0.8) & (u < 0.9), random_ids, ids))
        return ids, attention, labels


def epoch_batches(sequences, batch_size, seed, epoch, pool_batches=50):
    """Epoch e's global batches: a permutation from (seed, e), then length bucketing inside pools of
    pool_batches batches (fewer pads) with the pool's batches shuffled. Depends only on (seed, e)."""
    rng = np.random.default_rng([seed & 0xFFFFFFFF, epoch])
    order = rng.permutation(len(sequences))
    pool = batch_size * pool_batches
    for start in range(0, len(order), pool):
        chunk = sorted(order[start:start + pool], key=lambda i: len(sequences[i]))
        batches = [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
        for b in rng.permutation(len(batches)):
            yield [sequences[i] for i in batches[b]]


def parse(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m mlnf_torch.train", description=__doc__.split("\n\n")[0])
    ap.add_argument("--init", required=True, help="folder of `mlnf export` (config.json, model.safetensors, tokenizer files), "
                    "or a folder with only config.json (and tokenizer files) for a fresh model drawn from --seed")
    ap.add_argument("--corpus", help="token-id corpus written by `mlnf encode` (one sequence per line)")
    ap.add_argument("--replay", help="safetensors of already masked global batches batch.N.{input_ids,attention_mask,labels}, N = 1..T "
                    "(the .NET equivalence check)")
    ap.add_argument("--reset-values", help="safetensors with reset.N = the new E after update N, used instead of drawing it")
    ap.add_argument("--output", help="final Hugging Face folder for `mlnf import` (written by rank 0)")
    ap.add_argument("--settings", help="JSON of .NET PretrainingSettings names (ResetInterval, MaxSteps, ...); flags override it")
    ap.add_argument("--updates", type=int, default=10_000, help="T, total updates (MaxSteps)")
    ap.add_argument("--reset-interval", type=int, default=1000, help="K; 0 = standard pretraining")
    ap.add_argument("--batch-size", type=int, default=32, help="global batch in sequences, split over the ranks")
    ap.add_argument("--lr", type=float, default=7e-4)
    ap.add_argument("--emb-lr", type=float, default=7e-4)
    ap.add_argument("--warmup-fraction", type=float, default=0.08)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--clip-norm", type=float, default=0.5, help="0 = no clipping")
    ap.add_argument("--beta1", type=float, default=0.9)
    ap.add_argument("--beta2", type=float, default=0.98)
    ap.add_argument("--eps", type=float, default=1e-6)
    ap.add_argument("--mask-prob", type=float, default=0.15)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkpoint-dir")
    ap.add_argument("--checkpoint-interval", type=int, default=0)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--stop-after", type=int, default=0, help="stop after this update, writing a checkpoint (to test resume)")
    ap.add_argument("--log", help="JSON lines, one per update (rank 0)")
    ap.add_argument("--reset-log", help="prefix of per-rank files <prefix>.rank<R>.jsonl with the SHA-256 of E after each reset")
    ap.add_argument("--dump-resets", help="folder: rank 0 writes E after each reset as reset.N.safetensors")
    ap.add_argument("--device", default="auto", help="auto (cuda:LOCAL_RANK when CUDA is present, else cpu), cpu or cuda")
    ap.add_argument("--bf16", action="store_true", help="bfloat16 autocast in the forward pass (weights and optimizer stay float32)")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads per process (0: leave)")
    first, _ = ap.parse_known_args(argv)
    if first.settings:
        with open(first.settings) as f:
            s = json.load(f)
        names = {"MaxSteps": "updates", "ResetInterval": "reset_interval", "BatchSize": "batch_size", "LearningRate": "lr",
                 "EmbeddingLearningRate": "emb_lr", "WarmupFraction": "warmup_fraction", "WeightDecay": "weight_decay",
                 "ClipNorm": "clip_norm", "Beta1": "beta1", "Beta2": "beta2", "Epsilon": "eps", "MaskProbability": "mask_prob", "Seed": "seed"}
        ap.set_defaults(**{names[k]: (0.0 if k == "ClipNorm" and v is None else v) for k, v in s.items() if k in names})
    args = ap.parse_args(argv)
    if (args.corpus is None) == (args.replay is None):
        ap.error("give exactly one of --corpus and --replay")
    return args


# What a checkpoint must have been written with for --resume to continue it.
RESUME_KEYS = ("updates", "reset_interval", "batch_size", "lr", "emb_lr", "warmup_fraction", "weight_decay", "clip_norm",
               "beta1", "beta2", "eps", "mask_prob", "seed", "corpus_sha", "replay")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def main(argv=None):
    args = parse(argv)
    world, rank, local = int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("RANK", 0)), int(os.environ.get("LOCAL_RANK", 0))
    if args.threads:
        torch.set_num_threads(args.threads)
    cuda = torch.cuda.is_available() and args.device in ("auto", "cuda")
    device = torch.device(f"cuda:{local}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    distributed = world > 1
    if distributed:
        dist.init_process_group("nccl" if cuda else "gloo")

    cfg = io.read_config(args.init)
    c = Config(cfg)
    model = RobertaForMaskedLM(c)
    state = io.read_hf_weights(args.init)
    if state is None:
        model.initialize(torch.Generator().manual_seed(step_seed(args.seed, -1_000_000)))
    else:
        model.load_hf_state(state)
    model.to(device)

    if args.corpus:
        info, sequences = io.read_ids(args.corpus)
        if info["vocab_size"] != c.vocab_size:
            raise SystemExit(f"{args.corpus} was encoded with a vocabulary of {info['vocab_size']} ids; the model in {args.init} has {c.vocab_size}")
        longest, room = max(len(q) for q in sequences), c.max_positions - c.pad - 1
        if longest > room:
            raise SystemExit(f"{args.corpus} has a sequence of {longest} tokens; the model in {args.init} takes at most {room} "
                             f"(max_position_embeddings {c.max_positions}); encode with a smaller --seq")
        masker = Masker(c.vocab_size, info["mask_id"], info["pad_id"], info["special_ids"], args.mask_prob)
        corpus_sha, replay = sha256_file(args.corpus), None
    else:
        replay_tensors, _ = io.read_safetensors(args.replay)
        corpus_sha, replay = None, sha256_file(args.replay)
    reset_values = io.read_safetensors(args.reset_values)[0] if args.reset_values else None
    settings = {k: getattr(args, k, None) for k in RESUME_KEYS}
    settings.update(corpus_sha=corpus_sha, replay=replay)

    body_sched, emb_sched = schedules(args)
    e = model.token_embeddings
    opt = AdamEF({BODY: [p for n, p in model.named_parameters() if p is not e], EMBEDDINGS: [e]},
                 {BODY: body_sched, EMBEDDINGS: emb_sched}, args.weight_decay, (args.beta1, args.beta2), args.eps)
    net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local] if cuda else None) if distributed else model

    n, epoch, batch_in_epoch = 0, 0, 0
    ckpt = os.path.join(args.checkpoint_dir, "checkpoint.pt") if args.checkpoint_dir else None
    if args.resume and ckpt and os.path.exists(ckpt):
        saved = torch.load(ckpt, map_location="cpu")
        diff = [f"{k}: {saved['settings'].get(k)} in the checkpoint, {settings[k]} in this run" for k in RESUME_KEYS
                if saved["settings"].get(k) != settings[k]]
        if diff:
            raise SystemExit(f"cannot resume from {ckpt}: it was written with another configuration ({'; '.join(diff)})")
        model.load_hf_state(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        n, epoch, batch_in_epoch = saved["update"], saved["epoch"], saved["batch_in_epoch"]
        if rank == 0:
            print(f"resumed from update {n} (epoch {epoch}, batch {batch_in_epoch})", flush=True)

    def save_checkpoint():
        if rank == 0:
            os.makedirs(args.checkpoint_dir, exist_ok=True)
            blob = {"model": {k: v.detach().cpu() for k, v in model.named_parameters()}, "optimizer": opt.state_dict(),
                    "update": n, "epoch": epoch, "batch_in_epoch": batch_in_epoch, "settings": settings}
            torch.save(blob, ckpt + ".tmp")
            os.replace(ckpt + ".tmp", ckpt)
        if distributed:
            dist.barrier()

    def batches():
        nonlocal epoch, batch_in_epoch
        if replay is not None:
            while True:
                k = n + 1
                if f"batch.{k}.input_ids" not in replay_tensors:
                    raise SystemExit(f"{args.replay} has no batch {k}")
                yield (replay_tensors[f"batch.{k}.input_ids"].numpy(), replay_tensors[f"batch.{k}.attention_mask"].numpy(),
                       replay_tensors[f"batch.{k}.labels"].numpy())
        while True:
            yielded = 0
            for i, b in enumerate(epoch_batches(sequences, args.batch_size, args.seed, epoch)):
                yielded += 1
                if i < batch_in_epoch:
                    continue  # resume: skip what the checkpoint already trained on
                batch_in_epoch = i + 1
                yield masker(b, np.random.default_rng(step_seed(args.seed, n + 1)))
            if yielded == 0:
                raise SystemExit(f"{args.corpus} yields no batch")
            epoch, batch_in_epoch = epoch + 1, 0

    log = open(args.log, "a") if args.log and rank == 0 else None
    reset_log = open(f"{args.reset_log}.rank{rank}.jsonl", "a") if args.reset_log else None
    net.train()
    started, tokens_total, start_update = time.time(), 0, n
    source = batches()
    while n < args.updates:
        ids, attention, labels = next(source)
        update = n + 1
        rows = slice(rank, None, world)
        ids, attention, labels = ids[rows], attention[rows], labels[rows]
        width = max(1, int(attention.sum(1).max()))  # this rank's rows need no more columns than their longest
        to = lambda a: torch.from_numpy(np.ascontiguousarray(a[:, :width])).to(device)
        torch.manual_seed(step_seed(args.seed, update) ^ rank)  # dropout: depends on (seed, update, rank) only
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16):
            loss_sum, count = net(to(ids), to(attention), to(labels))
        stats = torch.tensor([loss_sum.item(), float(count), float(attention.sum())], dtype=torch.float64)
        if distributed:
            dist.all_reduce(stats)
        predicted = stats[1].item()
        if predicted == 0:
            raise SystemExit(f"update {update}: the batch has no predicted position")
        # DDP averages gradients over ranks, so rank r's share of the global mean is sum_r · world / N.
        for p in opt.parameters():
            p.grad = None
        (loss_sum.float() * (world / predicted)).backward()
        loss = stats[0].item() / predicted
        if not np.isfinite(loss):
            raise SystemExit(f"training diverged at update {update}: the loss is {loss}")
        norm = torch.nn.utils.clip_grad_norm_(opt.parameters(), args.clip_norm if args.clip_norm > 0 else float("inf"))
        if not torch.isfinite(norm):
            raise SystemExit(f"training diverged at update {update}: the gradient norm is {norm.item()}")
        opt.step(update)
        n = update
        tokens_total += int(stats[2].item())
        event = None
        if resets_after(n, args.reset_interval, args.updates):
            key = f"reset.{n}"
            if reset_values is not None:
                model.reset_token_embeddings(values=reset_values[key].to(device))
            else:
                model.reset_token_embeddings(torch.Generator().manual_seed(step_seed(args.seed ^ 0x5EED, n)))
            opt.reset(EMBEDDINGS)
            event = "reset"
            if reset_log:
                digest = hashlib.sha256(e.detach().cpu().numpy().tobytes()).hexdigest()
                reset_log.write(json.dumps({"update": n, "sha256": digest}) + "\n")
                reset_log.flush()
            if args.dump_resets and rank == 0:
                os.makedirs(args.dump_resets, exist_ok=True)
                io.write_safetensors(os.path.join(args.dump_resets, f"{key}.safetensors"), {key: e.detach().cpu()})
        if log:
            elapsed = time.time() - started
            log.write(json.dumps({"update": n, "loss": loss, "lr_body": opt.lr[BODY], "lr_embeddings": opt.lr[EMBEDDINGS],
                                  "grad_norm": norm.item(), "tokens": int(stats[2].item()), "elapsed": elapsed, "event": event}) + "\n")
            log.flush()
        if ckpt and ((args.checkpoint_interval and n % args.checkpoint_interval == 0 and n < args.updates) or n == args.stop_after):
            save_checkpoint()
        if n == args.stop_after:
            break
    elapsed = time.time() - started
    if rank == 0:
        print(json.dumps({"updates": n - start_update, "seconds": round(elapsed, 2), "tokens": tokens_total,
                          "tokens_per_second": round(tokens_total / max(elapsed, 1e-9), 1), "world_size": world}), flush=True)
        if args.output and n >= args.updates:
            # A masked LM whatever the starting folder held: a classifier of the starting model was not trained here.
            out_cfg = {k: v for k, v in cfg.items() if k not in ("num_labels", "id2label", "label2id", "problem_type")}
            out_cfg.update(architectures=["RobertaForMaskedLM"], model_type="roberta", vocab_size=c.vocab_size, hidden_size=c.hidden,
                           num_hidden_layers=c.layers, num_attention_heads=c.heads, intermediate_size=c.intermediate, hidden_act="gelu",
                           hidden_dropout_prob=c.hidden_dropout, attention_probs_dropout_prob=c.attention_dropout,
                           max_position_embeddings=c.max_positions, type_vocab_size=1, initializer_range=c.init_std, layer_norm_eps=c.eps,
                           position_embedding_type="absolute", pad_token_id=c.pad, tie_word_embeddings=True, torch_dtype="float32")
            ext = dict(out_cfg.get("mlnetforgetting", {}))
            ext.setdefault("format_version", 1)
            ext.setdefault("max_sequence_length", c.max_positions - c.pad - 1)
            out_cfg["mlnetforgetting"] = ext
            io.write_hf_folder(args.output, dict(model.named_parameters()), out_cfg, tokenizer_source=args.init)
    if ckpt and n >= args.updates:
        save_checkpoint()
    if distributed:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
