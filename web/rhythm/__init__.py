"""The monthly rhythm's queries: each rep's month (conversation, plan, follow-up), the
follow-up of plans on data at each import, the roll-up and coaching effectiveness.
Aggregates are SQL over the store; the arithmetic is engine.coaching's."""
