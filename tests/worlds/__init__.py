"""The test worlds, each defined once: who the parties are, which orders sit in which
stage, and the canary values a leak would show. Tests take a world from here rather than
building their own.

``canary``     two orgs, every canary in place and the table of who may see each; twin
               orders A / A' (same lines, supplier A or B); supplier B's jobs in the
               stages its actions apply to. The redaction and compiler tests.
``fast_path``  one small org whose page exercises every prefetched relation; the
               fast-path tests.
``notes``      orders that do not go to plan (proposals, amendments, rejects, a short
               close), a note for every audience; the note-audience tests.
``busy``       bulk orgs from the demo seed (``db.seed``) in every stage: the busy org
               (no-N+1, connections) and the two-org tenancy world.
``twins``      pairs that differ only where one viewer cannot see: a supplier's twin
               worlds, and a negotiated order twinned with a plain one.
``journey``    the main order's journey, walked by ``canary`` and ``fast_path`` alike.

Not here: the state-machine property test's model (``tests/lifecycle/
test_state_machine_property.py``): its world is the rule machine's own state, driven
through the db commands step by step, not a scenario seeded up front.
"""
