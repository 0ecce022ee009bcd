"""Pure-Python reader and writer for the .safetensors file format.

The `safetensors` package is a compiled extension that is not available in the reference environment, so this
module does the file I/O instead. It performs no model computation: a file is an 8-byte little-endian header
length, a JSON header {name: {"dtype", "shape", "data_offsets": [begin, end]}} (plus an optional
"__metadata__" map of strings), padded with spaces to a multiple of 8 bytes, followed by the raw little-endian
tensor bytes.

`install_as_safetensors_module()` registers this reader/writer under the module names `safetensors` and
`safetensors.torch`, so that diffusers' own save/load code (ModelMixin.save_pretrained / from_pretrained,
LoraLoaderMixin.save_lora_weights / lora_state_dict) runs unchanged and reaches the file through it.
"""

import json
import struct
import sys
import types

import numpy as np
import torch

# safetensors dtype name -> (torch dtype, numpy dtype used to move the bytes, byte size)
_DTYPES = {
    "F64": (torch.float64, np.float64, 8),
    "F32": (torch.float32, np.float32, 4),
    "F16": (torch.float16, np.float16, 2),
    "BF16": (torch.bfloat16, np.int16, 2),  # numpy has no bfloat16: move the raw 16-bit pattern
    "I64": (torch.int64, np.int64, 8),
    "I32": (torch.int32, np.int32, 4),
    "I16": (torch.int16, np.int16, 2),
    "I8": (torch.int8, np.int8, 1),
    "U8": (torch.uint8, np.uint8, 1),
    "BOOL": (torch.bool, np.bool_, 1),
}
_NAME_OF_DTYPE = {torch_dtype: name for name, (torch_dtype, _, _) in _DTYPES.items()}


class SafetensorError(Exception):
    """Raised for a malformed file (mirrors the exception type name diffusers catches)."""


def _tensor_bytes(tensor):
    tensor = tensor.detach().to("cpu").contiguous()
    if tensor.dtype == torch.bfloat16:
        array = tensor.view(torch.int16).numpy()
    else:
        array = tensor.numpy()
    return array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()


def serialize(tensors, metadata=None):
    """Returns the bytes of a .safetensors file holding `tensors` (a name -> tensor mapping).

    Tensors are laid out in name order so that the same input always gives the same bytes.
    """
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in sorted(metadata.items())}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        tensor = tensors[name]
        if tensor.dtype not in _NAME_OF_DTYPE:
            raise SafetensorError(f"tensor {name!r}: dtype {tensor.dtype} has no safetensors name")
        data = _tensor_bytes(tensor)
        header[name] = {
            "dtype": _NAME_OF_DTYPE[tensor.dtype],
            "shape": list(tensor.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)
    return struct.pack("<Q", len(header_bytes)) + header_bytes + b"".join(chunks)


def deserialize(data):
    """Returns (tensors, metadata) parsed from the bytes of a .safetensors file, in file order."""
    if len(data) < 8:
        raise SafetensorError("file shorter than its 8-byte header length")
    (header_len,) = struct.unpack("<Q", data[:8])
    if 8 + header_len > len(data):
        raise SafetensorError(f"header length {header_len} runs past the end of the file ({len(data)} bytes)")
    header = json.loads(data[8 : 8 + header_len].decode("utf-8"))
    metadata = header.pop("__metadata__", None)
    body = memoryview(data)[8 + header_len :]
    tensors = {}
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        if info["dtype"] not in _DTYPES:
            raise SafetensorError(f"tensor {name!r}: unsupported dtype {info['dtype']}")
        torch_dtype, np_dtype, size = _DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        count = int(np.prod(info["shape"])) if info["shape"] else 1
        if end - begin != count * size or end > len(body):
            raise SafetensorError(f"tensor {name!r}: data_offsets {begin}..{end} do not fit shape {info['shape']}")
        array = np.frombuffer(body[begin:end], dtype=np.dtype(np_dtype).newbyteorder("<")).astype(np_dtype)
        tensor = torch.from_numpy(array.copy())
        if torch_dtype == torch.bfloat16:
            tensor = tensor.view(torch.bfloat16)
        tensors[name] = tensor.reshape(info["shape"])
    return tensors, metadata


def save_file(tensors, filename, metadata=None):
    """Writes `tensors` to `filename` (same signature as safetensors.torch.save_file)."""
    with open(filename, "wb") as handle:
        handle.write(serialize(tensors, metadata))


def load_file(filename, device="cpu"):
    """Reads every tensor of `filename` (same signature as safetensors.torch.load_file)."""
    with open(filename, "rb") as handle:
        tensors, _ = deserialize(handle.read())
    return {name: tensor.to(device) for name, tensor in tensors.items()}


def load_metadata(filename):
    """Returns the "__metadata__" map of `filename`, or None."""
    with open(filename, "rb") as handle:
        _, metadata = deserialize(handle.read())
    return metadata


class _SafeOpen:
    """Minimal stand-in for safetensors.safe_open (keys / get_tensor / metadata)."""

    def __init__(self, filename, framework="pt", device="cpu"):
        with open(filename, "rb") as handle:
            self._tensors, self._metadata = deserialize(handle.read())
        self._device = device

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def keys(self):
        return list(self._tensors.keys())

    def get_tensor(self, name):
        return self._tensors[name].to(self._device)

    def metadata(self):
        return self._metadata


def install_as_safetensors_module():
    """Registers this reader/writer as the `safetensors` and `safetensors.torch` modules."""
    package = types.ModuleType("safetensors")
    package.__path__ = []  # marks it as a package so `import safetensors.torch` resolves
    package.SafetensorError = SafetensorError
    package.safe_open = _SafeOpen
    torch_module = types.ModuleType("safetensors.torch")
    torch_module.save_file = save_file
    torch_module.load_file = load_file
    torch_module.save = lambda tensors, metadata=None: serialize(tensors, metadata)
    torch_module.load = lambda data: deserialize(data)[0]
    package.torch = torch_module
    sys.modules["safetensors"] = package
    sys.modules["safetensors.torch"] = torch_module
