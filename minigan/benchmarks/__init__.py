"""Benchmarks (``python -m minigan.bench``, ``python -m minigan.bench_eyes``).

    layers     the conv / pool / loss layers of SimGAN and each implementation of them
    im2col     an im2col + GEMM convolution on the GPU, the baseline beside the kernels
    iteration  one whole SimGAN iteration in minigan and in PyTorch
    timing     timers, FLOP counts and the peaks that the achieved rates are put against
"""
