"""One blueprint per area of the admin UI."""
