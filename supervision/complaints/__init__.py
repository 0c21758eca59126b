"""Complaints and reports from citizens (投诉举报): filed from a plate page, checked by the
inspectors of the establishment's grid, decided by a supervisor."""
