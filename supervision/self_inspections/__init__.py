"""Self-inspection (自查自纠): an establishment answers the checklist inspectors use for its
category and records its own corrections; inspectors see the latest one offline (issue 19)."""
