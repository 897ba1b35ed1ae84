"""Controllers: each handler calls one action or query and converts at the edge."""
