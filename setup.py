"""minigan: SimGAN from scratch (autograd on NumPy/CuPy, hand-written CUDA kernels)."""
from setuptools import find_packages, setup

setup(
    name="minigan",
    version="0.1.0",
    description="SimGAN (Shrivastava et al., CVPR 2017) from scratch: autograd, CUDA kernels, "
                "eye renderer, experiments",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.9",
    packages=find_packages(include=["minigan", "minigan.*"]) + ["minigan.kernels"],
    # The CUDA sources sit at the top level (kernels/) for readers, and install as minigan/kernels.
    package_dir={"minigan.kernels": "kernels"},
    package_data={"minigan.kernels": ["*.cu", "*.cuh", "dev/*.cu"], "minigan.emulator": ["*.h"]},
    install_requires=["numpy>=1.22", "scipy>=1.8", "pillow>=9", "tqdm>=4.60",
                      "threadpoolctl>=3.1"],
    extras_require={
        "gpu": ["cupy-cuda12x>=13"],
        "gpu-cuda13": ["cupy-cuda13x>=13.6"],
        "student": ["pytest>=7"],   # a homework tree's tests, status and grade
        "dev": ["pytest>=7", "h5py>=3", "setuptools>=64", "wheel"],
    },
    entry_points={"console_scripts": [
        "minigan-train-eyes=minigan.train_eyes:main",
        "minigan-refine=minigan.refine:main",
        "minigan-make-eyes=minigan.make_eyes:main",
        "minigan-bench=minigan.bench:main",
        "minigan-bench-eyes=minigan.bench_eyes:main",
        "minigan-eye-stats=minigan.eye_stats:main",
        "minigan-evaluate-gaze=minigan.evaluate_gaze:main",
        "minigan-ablations=minigan.ablations:main",
        "minigan-turing=minigan.turing:main",
        "minigan-gaze-study=minigan.gaze_study:main",
        "minigan-gaze-benchmark=minigan.gaze_benchmark:main",
    ]},
)
