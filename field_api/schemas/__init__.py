"""marshmallow schemas of the JSON API: they validate requests and document both directions."""
