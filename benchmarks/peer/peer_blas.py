"""What the PyTorch peer really computes its matmuls with, and how fast.

Debian's python3-torch calls whatever libblas.so.3 the dynamic linker finds: OpenBLAS when
libopenblas0-pthread is installed (or its folder is on LD_LIBRARY_PATH), otherwise the netlib reference
BLAS (libblas3), about ten times slower. torch.__config__.show() only says how torch was built
("BLAS_INFO=generic" for Debian), so the loaded library is read from /proc/self/maps; for MKL linked
into libtorch itself (pip wheels), which maps no separate BLAS file, the build string is the answer.
"""
import ctypes
import os
import re
import time

import torch


def _mapped_libraries():
    try:
        with open("/proc/self/maps") as maps:
            return sorted({line.split()[-1] for line in maps if line.rstrip().endswith(".so") or ".so." in line})
    except OSError:
        return []


def _openblas_description(path):
    """("OpenBLAS (config; kernels X)", X): the kernels OpenBLAS chose at run time for this CPU."""
    try:
        lib = ctypes.CDLL(path)
        lib.openblas_get_config.restype = ctypes.c_char_p
        lib.openblas_get_corename.restype = ctypes.c_char_p
        kernels = lib.openblas_get_corename().decode()
        return "OpenBLAS (%s; kernels %s)" % (lib.openblas_get_config().decode().strip(), kernels), kernels
    except (OSError, AttributeError):
        return "OpenBLAS", None


def loaded_blas():
    """{"blas": openblas|mkl|blis|atlas|reference|unknown, "blas_detail": text, "blas_library": path or None,
    "blas_build": torch's BLAS_INFO, and for OpenBLAS "blas_kernels": the kernel family it picked (e.g. Haswell)}."""
    libs = _mapped_libraries()

    def find(*names):
        return next((p for p in libs if any(os.path.basename(p).startswith(n) for n in names)), None)

    build = "BLAS_INFO=" + (re.findall(r"BLAS_INFO=(\w+)", torch.__config__.show()) or ["?"])[0]
    found = find("libopenblas")
    if found:
        detail, kernels = _openblas_description(found)
        return {"blas": "openblas", "blas_detail": detail, "blas_kernels": kernels, "blas_library": found, "blas_build": build}
    for kind, names, detail in (("mkl", ("libmkl",), "Intel MKL"), ("blis", ("libblis",), "BLIS"), ("atlas", ("libatlas", "libsatlas", "libtatlas"), "ATLAS")):
        found = find(*names)
        if found:
            return {"blas": kind, "blas_detail": detail, "blas_library": found, "blas_build": build}
    # A bare libblas.so.3 that is none of the above: Debian's libblas3, the unoptimised netlib reference.
    found = find("libblas.so")
    if found:
        return {"blas": "reference", "blas_detail": "netlib reference BLAS (Debian libblas3)", "blas_library": found, "blas_build": build}
    if "BLAS_INFO=mkl" in build:
        return {"blas": "mkl", "blas_detail": "Intel MKL linked into libtorch", "blas_library": None, "blas_build": build}
    return {"blas": "unknown", "blas_detail": "no BLAS library mapped", "blas_library": None, "blas_build": build}


def matmul_gflops(n, reps):
    """GFLOP/s of `reps` n x n x n FP32 matmuls (multiply-add = 2 FLOPs), after one untimed call."""
    x, y = torch.randn(n, n), torch.randn(n, n)
    x @ y
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        x @ y
        out.append(round(2.0 * n ** 3 / (time.perf_counter() - t) / 1e9, 1))
    return out
