"""Homeworks generated from the code: student trees with stubbed tasks, progress, grading, and
the checks that keep them in step with the code (``python -m minigan.assignments``).

    manifest       the homeworks: each task's stub targets, marker, points, device, time limit
    stubs          finding a function's or kernel's body in a file, stubbing it, splicing one in
    trees          the checkout, building a student tree, moving a task's code between trees
    runner         running a tree's tests for some markers with a time limit, and reading back
                   each test's outcome (``pytest_plugin`` records it)
    scoring        the task list, a tree's progress (status), grading a submission
    sync           the CI checks: targets resolve, tests carry markers, the reference passes,
                   stubs fail for the right reason, restoring one task makes exactly it pass
"""
