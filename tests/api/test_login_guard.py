"""Password guessing is refused after five attempts per minute, per IP and per username."""

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_admin_login_blocks_the_sixth_attempt_with_a_message():
    UserFactory(username="victim", is_staff=True)
    client = Client()
    for _ in range(5):
        response = client.post("/admin/login/", {"username": "victim", "password": "wrong"})
        assert response.status_code == 200
    response = client.post("/admin/login/", {"username": "victim", "password": "wrong"})
    assert response.status_code == 429
    assert b"Too many login attempts" in response.content


def test_the_username_is_guarded_across_addresses():
    UserFactory(username="victim", is_staff=True)
    for index in range(5):
        Client(REMOTE_ADDR=f"10.0.0.{index + 1}").post("/admin/login/", {"username": "victim", "password": "x"})
    response = Client(REMOTE_ADDR="10.0.0.99").post("/admin/login/", {"username": "victim", "password": "x"})
    assert response.status_code == 429


def test_a_correct_login_within_the_budget_works():
    UserFactory(username="owner", is_staff=True, is_superuser=True)
    client = Client()
    client.post("/admin/login/", {"username": "owner", "password": "wrong"})
    response = client.post("/admin/login/?next=/admin/", {"username": "owner", "password": "correct-horse-battery"})
    assert response.status_code == 302


def test_the_token_endpoint_answers_429_in_the_error_shape_after_five_attempts(api_client):
    UserFactory(username="victim")
    for _ in range(5):
        response = api_client.post("/api/v1/auth/token/", {"username": "victim", "password": "no"}, format="json")
        assert response.status_code == 401
    response = api_client.post("/api/v1/auth/token/", {"username": "victim", "password": "no"}, format="json")
    assert response.status_code == 429
    body = response.json()
    assert body["error"] == "rate_limit_exceeded"
    assert body["context"] == {"retry_after": 60}
    assert response["Retry-After"] == "60"


def test_five_wrong_passwords_block_even_the_right_one(api_client):
    UserFactory(username="owner")
    for _ in range(5):
        api_client.post("/api/v1/auth/token/", {"username": "owner", "password": "guess"}, format="json")
    right = api_client.post(
        "/api/v1/auth/token/", {"username": "owner", "password": "correct-horse-battery"}, format="json"
    )
    assert right.status_code == 429
    assert right.json()["error"] == "rate_limit_exceeded"
