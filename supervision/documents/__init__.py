"""Documents the institute issues (notices, reports) as HTML and PDF."""
