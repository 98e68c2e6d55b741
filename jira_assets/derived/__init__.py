"""Tables built from the lake's own tables, with no request: one module per derived table's strategy."""
