"""The planner: calendar events, tasks, expenses, the dashboard, and the tools and
sentence parser through which chat turns plain sentences into records."""
