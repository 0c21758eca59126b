"""Server-rendered pages for citizens and establishments, reached from QR plates."""
from public_site.views import public_site

__all__ = ["public_site"]
from public_site import draw_results  # noqa: E402,F401  (registers its routes on the blueprint)
