"""The typed environment reader fails loudly and parses every kind it offers."""

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from mamcrawler.env import Env, read_dotenv


def test_it_returns_the_default_when_unset():
    assert Env({}).str("NAME", "fallback") == "fallback"


def test_it_requires_a_variable_without_default():
    with pytest.raises(ImproperlyConfigured, match="NAME"):
        Env({}).str("NAME")


def test_an_empty_value_counts_as_unset():
    assert Env({"NAME": ""}).str("NAME", "fallback") == "fallback"
    assert Env({"NAME": "  "}).int("NAME", 7) == 7
    with pytest.raises(ImproperlyConfigured, match="NAME"):
        Env({"NAME": ""}).str("NAME")


def test_a_blank_value_can_mean_something_of_its_own():
    assert Env({"LOG_FILE": ""}).str("LOG_FILE", "app.log", blank=True) == ""


def test_an_empty_value_gives_way_to_its_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")

    assert Env({"TOKEN": "", "TOKEN_FILE": str(secret)}).str("TOKEN") == "from-a-file"


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("1", True), ("Yes", True), ("off", False), ("0", False)]
)
def test_it_parses_booleans(raw, expected):
    assert Env({"FLAG": raw}).bool("FLAG") is expected


def test_it_refuses_a_boolean_it_does_not_understand():
    with pytest.raises(ImproperlyConfigured, match="FLAG"):
        Env({"FLAG": "maybe"}).bool("FLAG")


def test_it_parses_integers_and_refuses_garbage():
    assert Env({"N": " 42 "}).int("N") == 42
    with pytest.raises(ImproperlyConfigured, match="integer"):
        Env({"N": "forty"}).int("N")


def test_it_parses_floats():
    assert Env({"R": "1.5"}).float("R") == 1.5
    with pytest.raises(ImproperlyConfigured):
        Env({"R": "high"}).float("R")


def test_it_splits_lists_and_drops_blanks():
    assert Env({"HOSTS": "a.example, b.example,,"}).list("HOSTS") == ["a.example", "b.example"]
    assert Env({}).list("HOSTS", []) == []


def test_it_parses_mappings():
    env = Env({"MAP": "/downloads=/data/dl, /torrents=/data/t"})
    assert env.mapping("MAP") == {"/downloads": "/data/dl", "/torrents": "/data/t"}
    with pytest.raises(ImproperlyConfigured, match="key=value"):
        Env({"MAP": "nonsense"}).mapping("MAP")


def test_it_resolves_relative_paths_against_a_base(tmp_path):
    assert Env({"DIR": "data"}).path("DIR", base=tmp_path) == (tmp_path / "data").resolve()
    assert Env({"DIR": "/srv/x"}).path("DIR", base=tmp_path) == Path("/srv/x")


def test_it_reads_secrets_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    assert Env({"SECRET_KEY_FILE": str(secret)}).str("SECRET_KEY") == "s3cret"


def test_it_prefers_the_variable_over_the_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-file")
    assert Env({"TOKEN": "direct", "TOKEN_FILE": str(secret)}).str("TOKEN") == "direct"


def test_it_fails_loudly_on_an_unreadable_secret_file(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="cannot read"):
        Env({"TOKEN_FILE": str(tmp_path / "missing")}).str("TOKEN")


def test_dotenv_fills_only_unset_variables(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("# comment\nA=1\nexport B='two'\nC=\"three\"\nnot a line\n")
    environ = {"A": "kept"}
    read_dotenv(dotenv, environ)
    assert environ == {"A": "kept", "B": "two", "C": "three"}
