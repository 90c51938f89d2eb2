"""The built-in timeline page: static HTML, CSS and JavaScript on top of the public JSON API."""
