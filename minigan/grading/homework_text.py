"""HOMEWORK.md, the text a student tree opens with: setting up, the tasks, and how grading
works (what of a student's files it uses, partial credit, the limits, what ``status`` does)."""
from minigan.grading.manifest import CPU_SECONDS_PER_SECOND


def _task_table(hw):
    lines = ["| task | points | runs on | time limit | write | test |",
             "|---|---:|---|---:|---|---|"]
    for t in hw.tasks:
        targets = "<br>".join(f"`{target}`" for target in t.stub)
        needs = f" (needs {', '.join(t.requires)})" if t.requires else ""
        lines.append(f"| {t.id} {t.title}{needs} | {t.points} | {t.device} | {t.timeout_s} s | "
                     f"{targets} | `python -m pytest -m {t.marker}` |")
    notes = [f"- **{t.id}**: {t.notes}" for t in hw.tasks if t.notes]
    return lines + ([""] + notes if notes else [])


def homework_readme(hw):
    """HOMEWORK.md of a student tree for homework ``hw``."""
    memory = max(t.memory_mb for t in hw.tasks)
    file_mb = max(t.file_mb for t in hw.tasks)
    steps = ", ".join(f"`tutorials/step{s:02d}_*.py`" for s in hw.steps)
    return "\n".join([
        f"# Homework {hw.number}: {hw.title}", "",
        "## Set up", "",
        "In this folder, install minigan with pytest, which runs the tests:", "",
        "```bash", 'pip install -e ".[student]"', "```", "",
        f"Tutorial steps: {steps}", "",
        "## The tasks", "",
        "Each task names the functions or kernels to write. Their bodies raise "
        "`NotImplementedError` (a kernel returns at once, leaving its outputs unwritten) until "
        "you write them. The specification is the function's docstring (for a method without "
        "one, its class's docstring), the docstring at the top of its file, and the notes under "
        "the table; for a kernel, the comment at the top of its file. Whatever a test checks "
        "(the result's shape, dtype, memory layout) is stated there.", "",
        *_task_table(hw), "",
        "## How grading works", "",
        "- **What of your files is used.** For each task, grading takes a fresh copy of the "
        "repository and puts in it the bodies of that task's functions or kernels from your "
        "tree. From a Python file it also takes the module-level names you *added* (an import, "
        "a helper function or class, a constant) and new methods of a class that holds one of "
        "the task's methods; they are added after the file's own code. It does not use your "
        "changes to the file's existing code outside the bodies (an edited helper, a changed "
        "import, a top-level call), nor in a `.cu` file anything outside the kernels' bodies "
        "(write a helper as a lambda inside the kernel): `status` and `grade` name each such "
        "line. Everything else, the tests included, is the repository's, and a task that "
        "needs other tasks gets the repository's solutions of those, so one unfinished task "
        "does not sink the next.",
        "- **Partial credit.** Every test function of a task weighs the same (its parametrized "
        "cases share its weight) unless the course says otherwise; a task earns its points "
        "times the weighted share of its tests that pass.",
        f"- **Limits.** A task's tests must finish within its time limit, and run with at most "
        f"{CPU_SECONDS_PER_SECOND}x that in CPU time per process, {memory} MB of memory and "
        f"files of at most {file_mb} MB. Processes your code starts are stopped when the tests "
        f"end.",
        "- **Your progress.** `python -m minigan.assignments status` grades this tree exactly "
        "as `grade` does, with the repository this tree was built from (`ASSIGNMENT.json` "
        "names it; `--reference DIR` gives another clone). Without one it grades against this "
        "tree as built, with your own code for the tasks a task needs, and says so.",
        "",
        "Kernel tasks run on minigan's CPU emulator of the CUDA device (it needs g++); with a "
        "GPU and CuPy, `python -m pytest -m <marker>` also runs them on the GPU.", ""])
