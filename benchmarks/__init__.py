"""`make bench`: each module measures one thing and returns a JSON-serialisable dict of figures."""
