"""Files: safetensors without the safetensors package, config.json, the token-id corpus of `mlnf encode`,
and the Hugging Face folder that `mlnf import` reads."""
import json
import os
import shutil
import struct

import numpy as np
import torch

_DTYPES = {"F32": (torch.float32, np.float32), "F64": (torch.float64, np.float64), "I64": (torch.int64, np.int64),
           "I32": (torch.int32, np.int32), "F16": (torch.float16, np.float16)}
_NAMES = {v[0]: k for k, v in _DTYPES.items()}

WEIGHTS_FILE, CONFIG_FILE, PYTORCH_FILE = "model.safetensors", "config.json", "pytorch_model.bin"
DECODER_WEIGHT, DECODER_BIAS, TOKEN_EMBEDDINGS, LM_BIAS = "lm_head.decoder.weight", "lm_head.decoder.bias", \
    "roberta.embeddings.word_embeddings.weight", "lm_head.bias"


def read_safetensors(path):
    """(tensors by name, metadata): 8-byte little-endian header length, JSON header, raw little-endian data."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", None) or {}
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype, np_dtype = _DTYPES[info["dtype"]]
        array = np.frombuffer(data, dtype=np.dtype(np_dtype).newbyteorder("<"), count=(end - begin) // np.dtype(np_dtype).itemsize,
                              offset=8 + n + begin)
        out[name] = torch.from_numpy(array.astype(np_dtype, copy=True)).reshape(info["shape"])
    return out, meta


def write_safetensors(path, tensors, metadata=None):
    """Writes atomically (temporary file + rename), names sorted, header padded to 8 bytes."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        blob = t.numpy().astype(np.dtype(_DTYPES[_NAMES[t.dtype]][1]).newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read_config(directory):
    with open(os.path.join(directory, CONFIG_FILE)) as f:
        cfg = json.load(f)
    if cfg.get("model_type", "roberta") != "roberta" or cfg.get("hidden_act", "gelu") != "gelu" \
            or cfg.get("position_embedding_type", "absolute") != "absolute":
        raise ValueError(f"{directory}/config.json does not describe a RoBERTa with gelu and absolute positions")
    if cfg.get("mlnetforgetting", {}).get("adapters"):
        raise ValueError(f"{directory} holds a model with adapters; pretraining takes a plain RoBERTa (export it before installing adapters)")
    return cfg


def read_hf_weights(directory):
    """The HF state dict of `mlnf export` (safetensors, else pytorch_model.bin), without the tied decoder keys
    (checked equal to E and lm_head.bias) and without a classifier, pooler or position_ids buffers."""
    st = os.path.join(directory, WEIGHTS_FILE)
    if os.path.exists(st):
        state, _ = read_safetensors(st)
    elif os.path.exists(os.path.join(directory, PYTORCH_FILE)):
        state = torch.load(os.path.join(directory, PYTORCH_FILE), map_location="cpu")
    else:
        return None
    for tied, source in ((DECODER_WEIGHT, TOKEN_EMBEDDINGS), (DECODER_BIAS, LM_BIAS)):
        if tied in state:
            if not torch.equal(state[tied], state[source]):
                raise ValueError(f"{directory}: {tied} differs from {source}; this model ties them")
            del state[tied]
    dropped = [k for k in state if k.startswith(("classifier.", "roberta.pooler.")) or k.endswith("position_ids")]
    for k in dropped:
        del state[k]
    return state


def write_hf_folder(directory, model_state, config, tokenizer_source=None):
    """The folder `mlnf import` reads: config.json, model.safetensors with the tied decoder keys HF expects,
    and the tokenizer files copied from tokenizer_source (every file there but weights and config)."""
    os.makedirs(directory, exist_ok=True)
    state = {k: v.detach().cpu().float() for k, v in model_state.items()}
    state[DECODER_WEIGHT] = state[TOKEN_EMBEDDINGS].clone()
    state[DECODER_BIAS] = state[LM_BIAS].clone()
    write_safetensors(os.path.join(directory, WEIGHTS_FILE), state, {"format": "pt"})
    tmp = os.path.join(directory, CONFIG_FILE + ".tmp")
    with open(tmp, "w") as f:
        json.dump(config, f, indent=2)
    os.replace(tmp, os.path.join(directory, CONFIG_FILE))
    if tokenizer_source and os.path.abspath(tokenizer_source) != os.path.abspath(directory):
        for name in os.listdir(tokenizer_source):
            path = os.path.join(tokenizer_source, name)
            if os.path.isfile(path) and name not in (WEIGHTS_FILE, CONFIG_FILE, PYTORCH_FILE) and not name.endswith(".tmp"):
                shutil.copyfile(path, os.path.join(directory, name))


IDS_MAGIC = "#mlnf-ids "


def read_ids(path):
    """The corpus of `mlnf encode`: a first line '#mlnf-ids {json}' (vocab_size, pad_id, mask_id, special_ids, ...),
    then one sequence of token ids per line (with <s> and </s>, already truncated)."""
    with open(path) as f:
        first = f.readline()
        if not first.startswith(IDS_MAGIC):
            raise ValueError(f"{path} is not a token-id corpus written by `mlnf encode` (no '{IDS_MAGIC.strip()}' line)")
        info = json.loads(first[len(IDS_MAGIC):])
        sequences = [np.array(line.split(), dtype=np.int64) for line in f if line.strip()]
    if not sequences:
        raise ValueError(f"{path} holds no sequence")
    return info, sequences
