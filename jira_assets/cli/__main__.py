"""`python -m jira_assets.cli ...` is the `jira-assets` command."""

import sys

from jira_assets.cli import main

sys.exit(main())
