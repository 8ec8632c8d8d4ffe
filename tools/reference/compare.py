"""Compare MLNetForgetting's logits with the independent PyTorch reference.

usage: python3 compare.py EXPORT_DIR OURS.json [--format auto|safetensors|pytorch] [--tolerance 1e-4]

OURS.json (written by the C# side, see tests/MLNetForgetting.Tests/Interop/ReferenceDumpTests.cs):
  {"input_ids": [[...]], "attention_mask": [[...]], "mlm_logits": [[[...]]], "classifier_logits": [[...]] (optional)}
Prints the max |ours - reference| over real (non-padding) positions; exit code 1 above the tolerance.
"""
import argparse
import json
import sys

import torch

from roberta_reference import Reference, load_state_dict


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("export_dir")
    ap.add_argument("ours")
    ap.add_argument("--format", default="auto", choices=["auto", "safetensors", "pytorch"])
    ap.add_argument("--tolerance", type=float, default=1e-4)
    a = ap.parse_args()
    with open(a.ours) as f:
        ours = json.load(f)
    ids = torch.tensor(ours["input_ids"], dtype=torch.long)
    mask = torch.tensor(ours["attention_mask"], dtype=torch.long)
    ref = Reference(a.export_dir, a.format)
    with torch.no_grad():
        hidden = ref.hidden(ids, mask)
        mlm = ref.mlm_logits(hidden)
        cls = ref.classifier_logits(hidden)
    real = mask.bool()
    mlm_ours = torch.tensor(ours["mlm_logits"], dtype=torch.float64)
    mlm_diff = (mlm_ours - mlm)[real].abs().max().item()
    report = {"sentences": int(ids.shape[0]), "tokens": int(real.sum()), "vocab": int(mlm.shape[-1]),
              "format": a.format, "torch": torch.__version__,
              "mlm_max_abs_diff": mlm_diff, "mlm_max_abs_logit": mlm[real].abs().max().item()}
    worst = mlm_diff
    if cls is not None and "classifier_logits" in ours:
        cls_diff = (torch.tensor(ours["classifier_logits"], dtype=torch.float64) - cls).abs().max().item()
        report["classifier_max_abs_diff"] = cls_diff
        worst = max(worst, cls_diff)
    # The exported .bin and .safetensors must hold the same tensors.
    if a.format == "auto":
        import os
        if os.path.exists(os.path.join(a.export_dir, "pytorch_model.bin")) and os.path.exists(os.path.join(a.export_dir, "model.safetensors")):
            pt, st = load_state_dict(a.export_dir, "pytorch"), load_state_dict(a.export_dir, "safetensors")
            report["bin_equals_safetensors"] = sorted(pt) == sorted(st) and all(torch.equal(pt[k], st[k]) for k in pt)
    report["within_tolerance"] = worst <= a.tolerance
    print(json.dumps(report, indent=2))
    sys.exit(0 if report["within_tolerance"] and report.get("bin_equals_safetensors", True) else 1)


if __name__ == "__main__":
    main()
