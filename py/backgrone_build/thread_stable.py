"""fp32 graphs whose results do not depend on the number of threads that run them.

onnxruntime's CPU kernels (MLAS: the wasm build in the extension, and native builds without
x86's NCHWc kernels) slice a convolution's output pixels across threads, and size the blocks
in which each pixel's sum over ``K = in_channels * kernel_h * kernel_w`` is accumulated by the
width of that slice. A small convolution (few output pixels) therefore sums in other blocks,
so rounds differently, on two threads than on one: the mask then differs by one level in a few
pixels between machines with different core counts.

:func:`thread_dependent` follows MLAS's choice (``MlasConvPrepare``, ``MlasConvOperation`` in
onnxruntime/core/mlas/lib/convolve.cpp) for 1 to 16 threads: only a convolution with
``K > 128`` and small slices (at most 64 pixels on some thread count) can differ.
:func:`split_small_convs` gives each such convolution two groups over a duplicated input:
``Conv(Concat(x, x), W, group=2)`` is the same arithmetic (every output channel still sums over
all of ``x``), and MLAS schedules a grouped convolution one whole group per thread, each summed
over its full output with one blocking: the single-thread result, on any thread count. The
small layers this touches cost little.

Measured limit (2026-12-04): the rebuilt u2netp gives the 1-thread bytes on 1 to 8 generic-kernel
threads, but not on 12 or 16, nor on 16 in onnxruntime-web (some other split than the one followed
here). The extension runs it on at most 4 threads (its catalogue ``max_threads``), where
``tests/test_thread_determinism.py`` checks it.
"""

from __future__ import annotations

import onnx
from onnx import helper, numpy_helper, shape_inference

from .isnet import only_output

# MLAS's constants (onnxruntime/core/mlas/lib/mlasi.h), the same in the wasm and native builds.
STRIDE_N, STRIDE_K = 128, 128  # MLAS_SGEMM_STRIDEN, MLAS_SGEMM_STRIDEK
THREAD_ALIGN = 16  # MLAS_SGEMM_STRIDEN_THREAD_ALIGN
THREAD_COMPLEXITY = 64 * 1024  # MLAS_SGEMM_THREAD_COMPLEXITY
MAX_THREADS = 16  # MLAS_MAXIMUM_THREAD_COUNT


def _slice_width(pixels: int, filters: int, k: int, threads: int) -> int:
    """The output pixels one thread sums (MlasConvPrepare's ThreadStrideN)."""
    complexity = filters * pixels * k
    target = complexity // THREAD_COMPLEXITY + 1 if complexity < THREAD_COMPLEXITY * MAX_THREADS else MAX_THREADS
    target = min(target, threads)
    width = -(-pixels // target)
    if target > 1:
        width = (width + THREAD_ALIGN - 1) & ~(THREAD_ALIGN - 1)
    return min(width, pixels)


def _block_k(width: int, k: int) -> int:
    """How many terms of each sum are accumulated at once over a slice (MlasConvOperation's StrideK)."""
    stride_n, stride_k = STRIDE_N, STRIDE_K
    if width >= k:
        while stride_k // 2 >= k:
            stride_n, stride_k = stride_n * 2, stride_k // 2
    else:
        while stride_n > 16 and stride_n // 2 >= width:
            stride_n, stride_k = stride_n // 2, stride_k * 2
    return min(stride_k, k)


def thread_dependent(pixels: int, filters: int, k: int) -> bool:
    """Whether MLAS sums this convolution in other blocks on some thread count than on one."""
    return len({_block_k(_slice_width(pixels, filters, k, t), k) for t in range(1, MAX_THREADS + 1)}) > 1


def _attribute(node: onnx.NodeProto, name: str, default: int) -> int:
    return next((int(helper.get_attribute_value(a)) for a in node.attribute if a.name == name), default)


def _ints(node: onnx.NodeProto, name: str) -> list[int]:
    return next((list(helper.get_attribute_value(a)) for a in node.attribute if a.name == name), [])


def split_small_convs(model: onnx.ModelProto) -> tuple[onnx.ModelProto, int]:
    """Every convolution whose sum could be blocked by its thread count, as two groups.

    Returns the new model and how many convolutions were split. The graph's input must have a
    fixed size (shape inference gives every convolution's output size).
    """
    model = shape_inference.infer_shapes(model, strict_mode=True)
    shapes = {
        v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
        for v in [*model.graph.value_info, *model.graph.output]
    }
    weights = {i.name: numpy_helper.to_array(i).shape for i in model.graph.initializer}
    nodes: list[onnx.NodeProto] = []
    split = 0
    for node in model.graph.node:
        if node.op_type == "Conv" and _attribute(node, "group", 1) == 1:
            filters, channels, *kernel = weights[node.input[1]]
            out = shapes.get(node.output[0], [])
            if len(out) != 4 or not all(out[2:]):
                raise ValueError(f"{node.name}: its output size is unknown (the input size must be fixed)")
            k = channels * kernel[0] * kernel[1]
            pixels = out[2] * out[3]
            if filters > pixels and k > STRIDE_K:  # MLAS expands, then runs a threaded GEMM: not covered
                raise ValueError(f"{node.name}: {filters} filters over {pixels} pixels: not a case this recipe covers")
            pointwise = kernel == [1, 1] and not any(_ints(node, "pads")) and set(_ints(node, "strides")) <= {1}
            if pointwise and k > STRIDE_K and pixels <= MAX_THREADS * STRIDE_N // 2:  # a threaded GEMM: split
                risky = True
            else:
                risky = not pointwise and thread_dependent(pixels, filters, k)
            if risky:
                if filters % 2 or filters // 2 > pixels:
                    raise ValueError(f"{node.name}: {filters} filters over {pixels} pixels can't be split in two")
                doubled = f"{node.output[0]}/doubled_input"
                nodes.append(helper.make_node("Concat", [node.input[0], node.input[0]], [doubled], axis=1))
                node.input[0] = doubled
                kept = [a for a in node.attribute if a.name != "group"]
                del node.attribute[:]
                node.attribute.extend([*kept, helper.make_attribute("group", 2)])
                split += 1
        nodes.append(node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    del model.graph.value_info[:]
    return model, split


def prepare(path: str, output: str) -> onnx.ModelProto:
    """A downloaded fp32 model -> its one used ``output``, with thread-stable convolutions."""
    model, split = split_small_convs(only_output(onnx.load(path), output))
    if not split:
        raise ValueError("no convolution needed splitting: the graph is not the one this recipe was made for")
    onnx.checker.check_model(model)
    return model
