from django.utils import translation
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from salesdesk.html import html_text


def test_it_escapes_as_the_templates_do():
    """The rows the pages build in Python escape as {{ value }} would: text escaped, safe
    HTML as it is, a lazy translation in the active language, anything else as its str()."""
    values = [
        'Иванов <b>"Вася"</b> & Ко',
        "O'Brien",
        mark_safe("<strong>уже HTML</strong>"),
        gettext_lazy("Факт"),
        42,
        None,
    ]
    for language in ("ru", "en"):
        with translation.override(language):
            for value in values:
                assert html_text(value) == str(conditional_escape(value)), (language, value)
    with translation.override("en"):
        assert html_text(gettext_lazy("Факт")) == "Actual"
    assert html_text("<script>") == "&lt;script&gt;"
