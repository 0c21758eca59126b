"""The credit commitment letter (信用承诺书): the standard text as versioned policy data, and
the legal representative's signatures of it, which are never edited (issue 19)."""
