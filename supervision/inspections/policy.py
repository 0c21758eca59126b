"""Rectification deadlines by the most serious failed item.

These are the institute's working defaults; like grading rules they belong to policy data keyed
by jurisdiction and effective date once the credit engine brings that store.
"""
RECTIFICATION_DAYS = {"critical": 7, "major": 15}
# Future start times beyond this are a wrong device clock, not an inspection.
CLOCK_SKEW_MINUTES = 10
