"""2048^3 FP32 matmul GFLOP/s through PyTorch's BLAS (median of 5 after 2 warm-ups, 2 threads).

Used to pick the peer's fastest BLAS setting on a host, e.g.
  for ct in "" Haswell Zen SkylakeX; do LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \
      OPENBLAS_CORETYPE=$ct /usr/bin/python3 benchmarks/peer/blas_matmul.py; done
"""
import os
import time

import torch

torch.set_num_threads(2)
n = 2048
a, b = torch.randn(n, n), torch.randn(n, n)
for _ in range(2):
    a @ b
times = []
for _ in range(5):
    t = time.perf_counter()
    a @ b
    times.append(time.perf_counter() - t)
times.sort()
print("OPENBLAS_CORETYPE=%s: %.1f GFLOP/s" % (os.environ.get("OPENBLAS_CORETYPE") or "auto", 2 * n ** 3 / times[2] / 1e9))
