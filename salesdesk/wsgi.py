import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesdesk.settings")

application = get_wsgi_application()

# The app is loaded for good: its modules, settings, URLs and templates (some 300 000
# objects) never become garbage, yet every full collection walked them again. Frozen, the
# collector leaves them alone, and it looks at the young objects after more allocations
# than its default 2 000: a request allocates tens of thousands and frees nearly all of them
# itself, by reference counting. Measured with bench/request_cost.py (GET /my/): see the
# README's "18:00 peak".
gc.freeze()
gc.set_threshold(50_000, 20, 100)
