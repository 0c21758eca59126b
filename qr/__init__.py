"""Plate URLs and their QR symbols."""
