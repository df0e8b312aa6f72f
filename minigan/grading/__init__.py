"""Homeworks generated from the code: student trees with stubbed tasks, grading, progress, and
the checks that keep them in step with the code (``python -m minigan.assignments``).

    manifest       the homeworks: each task's stub targets, marker, points, weights, limits
    stubs          finding a function's or kernel's body in a file, stubbing it, splicing one in
    transplant     what of a student's file besides the bodies grading uses (new module-level
                   names), and the notes on what it does not use
    trees          the checkout, building a student tree (atomically), moving a task's code
    homework_text  HOMEWORK.md of a student tree
    runner         running a tree's tests for some markers under ``supervisor`` (limits, no
                   process left behind), reading each test's outcome from the signed report
                   that ``pytest_plugin`` writes
    scoring        the task list, grading a submission, a student tree's status, points
    spec_coverage  whether a task's specification states what its tests check
    sync           the CI checks: targets resolve, tests carry markers, the reference passes,
                   stubs fail for the right reason, restoring one task makes exactly it pass,
                   specs state what tests check, partial solutions get partial credit
"""
