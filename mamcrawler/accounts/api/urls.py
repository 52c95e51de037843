from django.urls import path

from mamcrawler.accounts.api import views

urlpatterns = [
    path("token/", views.TokenObtainView.as_view(), name="token-obtain"),
    path("token/refresh/", views.TokenRefreshView.as_view(), name="token-refresh"),
    path("token/verify/", views.TokenVerifyView.as_view(), name="token-verify"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("me/", views.MeView.as_view(), name="me"),
]
