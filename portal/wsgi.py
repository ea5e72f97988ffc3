"""The portal for a WSGI server (gunicorn 'portal.wsgi:application'): started by the server, this module is where
the settings are read, as a command reads them when it starts."""

from django.core.wsgi import get_wsgi_application

from model.settings import Settings
from portal.config import setup

setup(Settings.from_env())
application = get_wsgi_application()
