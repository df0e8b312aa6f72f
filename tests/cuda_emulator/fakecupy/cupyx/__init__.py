"""The one ``cupyx`` function minigan uses, for the CUDA emulator's fake ``cupy``. A TEST TOOL.

``scatter_add(a, index, values)`` adds ``values`` into ``a[index]`` with repeated indices
accumulating, as CuPy's does with atomics; here it is NumPy's ``add.at`` on the fake arrays.
"""
import numpy


def scatter_add(a, slices, value):
    numpy.add.at(a, slices, value)
