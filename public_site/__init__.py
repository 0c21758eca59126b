"""Server-rendered pages for citizens and establishments, reached from QR plates."""
from public_site.views import public_site
from public_site import report_verification  # noqa: F401,E402  (registers /verify/report/<number>)

__all__ = ["public_site"]
from public_site import draw_results  # noqa: E402,F401  (registers its routes on the blueprint)
