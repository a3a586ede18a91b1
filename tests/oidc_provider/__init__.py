"""A real OpenID Connect provider for the single sign-on tests: django-oauth-toolkit in a Django
project of its own, which tests/web/test_single_sign_on.py prepares (``prepare``) and runs as a
separate process, with its own SQLite file and an RSA key made for the run."""
