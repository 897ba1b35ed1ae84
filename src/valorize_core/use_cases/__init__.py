"""The use cases: ``actions`` (writes), ``queries`` (reads) and what they share.

``lookups`` (reads both need), ``context.Ports`` (the ports they are built from), the categorizer
(it reads the unit of work and the embedder), ``cooperative`` loops and the correlation id the
events carry. Queries never import actions.
"""
