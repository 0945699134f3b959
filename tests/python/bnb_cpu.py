"""bitsandbytes' 4-bit dequantization on the CPU, checked before it serves as a reference.

bitsandbytes 0.50.2 dequantizes 4-bit weights on the CPU with a native kernel that, on CPUs with
AVX-512, takes each row of the weight as a whole number of blocks. Its blocks of 64 values run across
rows (they are blocks of the flattened weight), so for a layer whose in_features are not a multiple of
64 every block after the first row's is read with the wrong absmax: a [64, 176] weight comes back up
to 15 off (values of about +-5), and so do Linear4bit's products, which dequantize the same way. Its
quantization is right, and so is its generic (PyTorch) dequantization. `checked_dequantization()`
compares the two on such a weight; where they differ, the generic one takes the native kernel's place,
so the reference is bitsandbytes' 4-bit format on every CPU.
"""
import warnings

import torch
import bitsandbytes.functional as bnbf
from bitsandbytes.backends.default import ops as default_ops
from bitsandbytes.backends.utils import _get_4bit_code


_LIBRARY = torch.library.Library("bitsandbytes", "IMPL")


def _generic(A, absmax, blocksize, quant_type, shape, dtype):
    A = A.view(torch.uint8) if A.dtype != torch.uint8 else A
    code = _get_4bit_code(quant_type, A.device)
    return default_ops._dequantize_4bit_compute(A.reshape(-1), absmax, code, blocksize, shape, dtype)


def _native_is_right():
    g = torch.Generator().manual_seed(0)
    w = torch.randn(4, 176, generator=g) * torch.rand(4, 1, generator=g) * 5
    packed, state = bnbf.quantize_4bit(w, blocksize=64, quant_type="nf4")
    native = bnbf.dequantize_4bit(packed, state)
    generic = _generic(packed, state.absmax, 64, "nf4", w.shape, torch.float32)
    return torch.equal(native, generic)


def checked_dequantization():
    """Returns a line for the log: whether bitsandbytes' native CPU dequantization was kept."""
    if _native_is_right():
        return "bitsandbytes' native CPU 4-bit dequantization checked: right"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Overriding a previously registered kernel": that is the point
        _LIBRARY.impl("dequantize_4bit", _generic, "CPU", allow_override=True)
    assert _native_is_right(), "bitsandbytes' generic 4-bit dequantization did not take the native kernel's place"
    return ("bitsandbytes' native CPU 4-bit dequantization reads blocks that cross rows wrongly on this CPU; "
            "its generic dequantization is used instead")
