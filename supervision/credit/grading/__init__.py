"""Yearly A–E grading (信用分级评价): policy, engine, runs with sign-off, explanations, verify,
summary. Interfaces import the operations from here."""
from supervision.credit.grading.current import CurrentGrade, current_grade, current_grades  # noqa: F401
from supervision.credit.grading.runs import (  # noqa: F401
    RunResult,
    approve,
    grading_job,
    publish,
    reopen,
    run_grading,
)
