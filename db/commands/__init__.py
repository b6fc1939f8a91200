"""Write commands. Each runs inside the unit of work's transaction (``db.unit_of_work``):
it validates everything first, raises ``DomainErrors`` with every problem found
(nothing written), and otherwise changes rows and appends the order's event.

Every command takes a ``Call`` first (the transaction, the caller's scope, the clock);
every lifecycle command then an ``OrderRef`` (the order and the version the caller
read), and its own fields as keyword arguments: ``context`` says more.

``parties`` (suppliers, clients), ``orders`` (issuing a PO), ``supplier`` and ``buyer``
(the lifecycle, per actor), ``settings`` (the org's thresholds and tolerances); the
helpers every order command shares are in ``_order``, the one set of line checks in
``lines``, and changing terms as a new revision (amendments, accepted proposals) in
``terms``.
"""
