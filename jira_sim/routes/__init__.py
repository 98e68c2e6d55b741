"""Jira's REST surface by area; each module has its handlers and a `routes()` returning its Route list."""
