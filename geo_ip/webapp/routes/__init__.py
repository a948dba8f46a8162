"""The pages of the web app, one module per area (``auth``, ``fila``, ``pedido``...).

Every module here that defines ``router`` (a ``fastapi.APIRouter``) is included by
:func:`geo_ip.webapp.app.create_app`, in the order of the module names. A module:

- protects its pages with ``Depends(current_user)`` or ``Depends(require("decidir"))``
  (:mod:`geo_ip.webapp.security`);
- gets the registry with ``Depends(registry_of)``;
- renders with :func:`geo_ip.webapp.templating.render` (templates extend ``base.html``
  and put ``{{ csrf_field() }}`` in every form);
- needs nothing for CSRF: :func:`~geo_ip.webapp.security.check_csrf` is a dependency
  of the whole app and refuses any POST, PUT, PATCH or DELETE without the token.
"""
