"""Adapters between the national medical-insurance platform's records and this library."""
