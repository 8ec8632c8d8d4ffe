"""mlnf_torch: active-forgetting masked-LM pretraining of MLNetForgetting's RoBERTa on PyTorch's
distributed engine (torchrun + DistributedDataParallel), reading and writing the Hugging Face
folders that `mlnf export` writes and `mlnf import` reads. Depends only on PyTorch and numpy.
See docs/distributed.md."""
