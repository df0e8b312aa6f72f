"""CUDA sources of minigan's kernels (conv2d.cu, maxpool2d.cu, patch_xent.cu), read by minigan.cuda."""
