"""Who may do what with mail and background jobs."""

import rules

from accounts.rules import is_officer

rules.add_perm("notifications.change_own_settings", rules.is_authenticated)
#: Officers see the background jobs (queued, running, failed with the error) and run failed ones again.
rules.add_perm("notifications.view_jobs", is_officer)
rules.add_perm("notifications.retry_job", is_officer)
