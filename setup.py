"""Where the package's files are; everything else about minigan is in pyproject.toml.

The CUDA sources sit at the top level (kernels/) for readers and install as minigan/kernels:
a package mapping that pyproject.toml's package discovery cannot express.
"""
from setuptools import find_packages, setup

setup(packages=find_packages(include=["minigan", "minigan.*"]) + ["minigan.kernels"],
      package_dir={"minigan.kernels": "kernels"})
