"""Yearly A–E grading (信用分级评价): policy, engine, runs with sign-off, explanations, verify,
summary. Interfaces import the operations from here."""
from supervision.credit.grading.runs import (  # noqa: F401
    CurrentGrade,
    RunResult,
    approve,
    current_grade,
    current_grades,
    grading_job,
    publish,
    reopen,
    run_grading,
)
