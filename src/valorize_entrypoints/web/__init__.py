"""The web dashboard: static files shipped inside the package and the routes that serve them."""
