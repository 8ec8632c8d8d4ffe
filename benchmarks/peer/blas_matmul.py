"""2048^3 FP32 matmul GFLOP/s through PyTorch's BLAS (median of 5 after one warm-up, 2 threads), and which BLAS
library the process actually loaded.

Used to pick the peer's fastest BLAS setting on a host, e.g.
  for ct in "" Haswell Zen SkylakeX; do LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \
      OPENBLAS_CORETYPE=$ct /usr/bin/python3 benchmarks/peer/blas_matmul.py; done
"""
import os

import torch

from peer_blas import loaded_blas, matmul_gflops

torch.set_num_threads(2)
rates = sorted(matmul_gflops(2048, 5))
blas = loaded_blas()
print("OPENBLAS_CORETYPE=%s: %.1f GFLOP/s on %s (%s)" % (os.environ.get("OPENBLAS_CORETYPE") or "auto", rates[2], blas["blas_detail"], blas["blas_library"]))
