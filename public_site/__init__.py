"""Server-rendered pages for citizens and establishments, reached from QR plates."""
from public_site.views import public_site

__all__ = ["public_site"]
