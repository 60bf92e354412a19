from django.urls import path

from funnel import views

urlpatterns = [
    path("funnel/", views.funnel_page, name="funnel"),
    path("funnel/retargeting/", views.retargeting_page, name="retargeting"),
    path(
        "funnel/retargeting/<uuid:code>/return/",
        views.retargeting_return,
        name="retargeting-return",
    ),
]
