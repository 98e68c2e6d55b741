"""A faithful Jira Cloud simulator (REST v2, Agile 1.0, Software 1.0) for the demo, the tests and the benchmarks.

`python -m jira_sim --help`; the tenant is in tenant.py, the HTTP surface (and its page-size caps) in app.py with
its handlers in routes/, JSON renderings shared by endpoints and `/__sim/truth` in render.py, JQL in jql.py,
faults in faults.py.
"""
