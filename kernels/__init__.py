"""CUDA sources of minigan's kernels (conv2d.cu, maxpool2d.cu, patch_xent.cu, and the headers
common.cuh, gemm.cuh), read by minigan.cuda."""
