"""Tests of text2sql_blueprint against a real text2sql service.

Run by deploy/blueprint_test.go, which builds and starts the service and
passes its address in T2S_TEST_SIDECAR_URL and the caller token it accepts
in T2S_TEST_CALLER_TOKEN. The blueprint is mounted in a minimal Flask app
that plays Superset's part: a before_request hook sets g.user the way
Flask-AppBuilder does for a logged-in session (here chosen by a test
header), and the two Superset-dependent steps (minting a user's access
token, listing the datasets a user may see) go through the blueprint's
hooks. Between the blueprint and the service sits a recording proxy, so
the tests see exactly what the blueprint sent.
"""

import http.server
import json
import os
import socket
import sys
import threading
import time
import unittest
import uuid

import jwt
import requests
from flask import Flask, g

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import text2sql_blueprint  # noqa: E402

SIDECAR_URL = os.environ.get("T2S_TEST_SIDECAR_URL", "")
CALLER_TOKEN = os.environ.get("T2S_TEST_CALLER_TOKEN", "")
# A second service whose catalogs and user scopes come from a (fake) Superset.
SUPERSET_SIDECAR_URL = os.environ.get("T2S_TEST_SUPERSET_SIDECAR_URL", "")
FAKE_SUPERSET_URL = os.environ.get("T2S_TEST_FAKE_SUPERSET_URL", "")
JWT_SECRET = "test-superset-secret-key-0123456789"


class Role:
    def __init__(self, name):
        self.name = name


class User:
    """What Flask-AppBuilder puts in g.user for a logged-in user."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, id, username, roles, datasets):
        self.id = id
        self.username = username
        self.roles = [Role(r) for r in roles]
        self.datasets = datasets


class Anonymous:
    is_authenticated = False
    is_anonymous = True
    id = None
    username = ""
    roles = []


# In the test catalog (deploy/testdata/blueprint/schema.yaml), dataset 101
# is public.customers and 102 is public.orders.
USERS = {
    "alice": User(7, "alice", ["Gamma"], [102]),
    "bob": User(8, "bob", ["Gamma"], [101]),
}


def mint_token(user):
    """What flask_jwt_extended.create_access_token(identity=str(user.id)) makes."""
    now = int(time.time())
    claims = {"sub": str(user.id), "type": "access", "fresh": False, "iat": now, "nbf": now,
              "exp": now + 300, "jti": uuid.uuid4().hex}
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


class RecordingProxy:
    """Forwards POSTs to a target and remembers each request it forwarded."""

    def __init__(self, target):
        self.target = target.rstrip("/")
        self.requests = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                proxy.requests.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body or b"null")})
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                resp = requests.post(proxy.target + self.path, data=body, headers=headers, timeout=120)
                self.send_response(resp.status_code)
                for k, v in resp.headers.items():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(resp.content)))
                self.end_headers()
                self.wfile.write(resp.content)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class CannedServer:
    """Answers every POST with a fixed status and body (a broken service)."""

    def __init__(self, status, body, content_type="text/html"):
        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def make_app(sidecar_url, **config):
    app = Flask("superset-stand-in")
    app.config.update(
        TEXT2SQL_SIDECAR_URL=sidecar_url,
        TEXT2SQL_SIDECAR_TOKEN=CALLER_TOKEN,
        TEXT2SQL_USER_TOKEN_FACTORY=mint_token,
        TEXT2SQL_DATASET_RESOLVER=lambda user, database: user.datasets,
        TEXT2SQL_SIDECAR_TIMEOUT=60,
    )
    app.config.update(config)

    @app.before_request
    def load_user():
        g.user = USERS.get(_test_user_header(), Anonymous())

    app.register_blueprint(text2sql_blueprint.blueprint)
    return app


def _test_user_header():
    from flask import request

    return request.headers.get("X-Test-User", "")


def ask(app, user="alice", body=None, **kwargs):
    headers = {"X-Test-User": user} if user else {}
    if body is None:
        body = {"database": "shop", "question": "How many orders were shipped?"}
    resp = app.test_client().post("/api/v1/text2sql/generate", json=body, headers=headers, **kwargs)
    # Flask 2.2's test response reaches its app through a weak reference.
    resp.keep_app_alive = app
    return resp


class GenerationMixin:
    def skip_if_generation_off(self, resp):
        """The service answers 501 when no model is configured in its build."""
        if resp.status_code == 501:
            body = resp.get_json()
            self.assertEqual(body["error"], "SQL generation is not enabled on the text2sql service")
            self.assertTrue(body["requestId"])
            self.skipTest("the service has no generator (GenerateSQL answers UNIMPLEMENTED); its 501 maps correctly: " + body.get("detail", ""))


@unittest.skipUnless(SIDECAR_URL and CALLER_TOKEN, "run through deploy/blueprint_test.go, which starts the service")
class BlueprintAgainstService(GenerationMixin, unittest.TestCase):
    def setUp(self):
        self.proxy = RecordingProxy(SIDECAR_URL)
        self.addCleanup(self.proxy.close)

    def test_anonymous_gets_401_and_nothing_is_forwarded(self):
        app = make_app(self.proxy.url)
        resp = ask(app, user=None)
        self.assertEqual(resp.status_code, 401, resp.get_data(as_text=True))
        self.assertIn("Bearer", resp.headers.get("WWW-Authenticate", ""))
        self.assertEqual(self.proxy.requests, [])

    def test_invalid_requests_are_refused_before_the_service(self):
        app = make_app(self.proxy.url)
        cases = [
            ({"database": "shop"}, 400),
            ({"database": "shop", "question": "   "}, 400),
            ({"question": "how many?"}, 400),
            ({"database": True, "question": "how many?"}, 400),
            ({"database": "shop", "question": "q", "history": [{"question": "a"}] * 21}, 400),
            ({"database": "shop", "question": "q", "history": ["not an object"]}, 400),
            ({"database": "shop", "question": "q", "maxRows": -1}, 400),
            (["not", "an", "object"], 400),
        ]
        for body, status in cases:
            with self.subTest(body=body):
                resp = ask(app, body=body)
                self.assertEqual(resp.status_code, status, resp.get_data(as_text=True))
                self.assertIn("error", resp.get_json())
        form = app.test_client().post("/api/v1/text2sql/generate", data={"question": "x"}, headers={"X-Test-User": "alice"})
        self.assertEqual(form.status_code, 415)
        self.assertEqual(self.proxy.requests, [])

    def test_roles_restrict_the_endpoint(self):
        app = make_app(self.proxy.url, TEXT2SQL_ALLOWED_ROLES="Analyst, Admin")
        self.assertEqual(ask(app).status_code, 403)
        self.assertEqual(self.proxy.requests, [])

    def test_dataset_ids_scope_returns_validated_sql(self):
        app = make_app(self.proxy.url, TEXT2SQL_SCOPE_MODE="dataset-ids")
        resp = ask(app)
        self.assertEqual(len(self.proxy.requests), 1)
        sent = self.proxy.requests[0]
        self.assertEqual(sent["path"], "/v1/sql:generate")
        self.assertEqual(sent["headers"].get("Authorization"), f"Bearer {CALLER_TOKEN}")
        self.assertNotIn("X-Superset-Authorization", sent["headers"])
        self.assertEqual(sent["json"]["scope"], {"user": "alice", "dataset_ids": [102]})
        self.assertEqual(sent["json"]["database"], "shop")
        self.assertEqual(sent["json"]["question"], "How many orders were shipped?")
        self.assertRegex(sent["headers"].get("Grpc-Timeout", ""), r"^\d+m$")
        self.skip_if_generation_off(resp)

        self.assertEqual(resp.status_code, 200, resp.get_data(as_text=True))
        body = resp.get_json()
        self.assertIn("orders", body["sql"].lower())
        self.assertTrue(body["sql"].lstrip().upper().startswith("SELECT"), body["sql"])
        self.assertEqual(body["tables"], ["public.orders"])
        self.assertEqual(body["dialect"], "postgresql")
        self.assertEqual(body["database"], "shop")
        self.assertEqual(body["requestId"], sent["headers"]["X-Request-Id"])
        self.assertIn("/sqllab/", body["sqllabUrl"])
        self.assertGreaterEqual(len(body["attempts"]), 1)

    def test_a_user_never_gets_sql_on_tables_outside_their_datasets(self):
        app = make_app(self.proxy.url, TEXT2SQL_SCOPE_MODE="dataset-ids")
        assert_refused_outside_scope(self, app, "bob")
        self.assertEqual(self.proxy.requests[0]["json"]["scope"], {"user": "bob", "dataset_ids": [101]})

    def test_user_token_scope_forwards_the_users_own_token(self):
        app = make_app(self.proxy.url)  # default mode: user-token
        resp = ask(app, user="alice")
        sent = self.proxy.requests[0]
        self.assertEqual(sent["headers"].get("Authorization"), f"Bearer {CALLER_TOKEN}")
        scheme, _, token = sent["headers"].get("X-Superset-Authorization", "").partition(" ")
        self.assertEqual(scheme, "Bearer")
        claims = jwt.decode(token, JWT_SECRET, algorithms=["HS256"])
        self.assertEqual(claims["sub"], "7")
        self.assertEqual(claims["type"], "access")
        # No dataset ids: the service resolves the scope from the token.
        self.assertEqual(sent["json"]["scope"], {"user": "alice"})
        self.skip_if_generation_off(resp)
        # This service has no Superset to resolve the token with, and a
        # trusted caller's scope without ids means no tables: it must fail
        # closed rather than answer from every table.
        self.assertNotEqual(resp.status_code, 200, resp.get_data(as_text=True))
        self.assertIn(resp.status_code, (403, 404, 422), resp.get_data(as_text=True))

    def test_unknown_database_is_404(self):
        app = make_app(self.proxy.url, TEXT2SQL_SCOPE_MODE="dataset-ids")
        resp = ask(app, body={"database": "no_such_db", "question": "How many orders?"})
        self.skip_if_generation_off(resp)
        self.assertEqual(resp.status_code, 404, resp.get_data(as_text=True))
        self.assertTrue(resp.get_json()["error"])

    def test_question_over_the_service_limit_is_400(self):
        app = make_app(self.proxy.url, TEXT2SQL_SCOPE_MODE="dataset-ids")
        resp = ask(app, body={"database": "shop", "question": "orders " * 20000})
        self.skip_if_generation_off(resp)
        self.assertEqual(resp.status_code, 400, resp.get_data(as_text=True))

    def test_wrong_service_token_is_the_operators_problem(self):
        app = make_app(self.proxy.url, TEXT2SQL_SIDECAR_TOKEN="not-the-right-token-0123456789")
        resp = ask(app)
        self.assertEqual(resp.status_code, 502, resp.get_data(as_text=True))
        self.assertIn("credentials", resp.get_json()["error"])

    def test_missing_service_token_is_a_configuration_error(self):
        app = make_app(self.proxy.url, TEXT2SQL_SIDECAR_TOKEN="")
        resp = ask(app)
        self.assertEqual(resp.status_code, 500)
        self.assertIn("misconfigured", resp.get_json()["error"])
        self.assertEqual(self.proxy.requests, [])

    def test_unknown_scope_mode_is_a_configuration_error(self):
        app = make_app(self.proxy.url, TEXT2SQL_SCOPE_MODE="everything")
        self.assertEqual(ask(app).status_code, 500)
        self.assertEqual(self.proxy.requests, [])


def assert_refused_outside_scope(test, app, user):
    """user may see customers only; the model answers every question with a
    query on orders."""
    # A question about orders: nothing the user may read matches, so the
    # service refuses before asking the model.
    resp = ask(app, user=user)
    test.skip_if_generation_off(resp)
    test.assertEqual(resp.status_code, 422, resp.get_data(as_text=True))
    test.assertNotIn("sql", resp.get_json())
    test.assertTrue(resp.get_json()["error"])
    # A question about customers: the model's orders query fails validation
    # on every attempt, and no SQL comes back.
    resp = ask(app, user=user, body={"database": "shop", "question": "How many customers are there per country?"})
    test.assertEqual(resp.status_code, 422, resp.get_data(as_text=True))
    body = resp.get_json()
    test.assertNotIn("sql", body)
    test.assertGreaterEqual(len(body["attempts"]), 1)
    for attempt in body["attempts"]:
        codes = {v["code"] for v in attempt.get("violations", [])}
        test.assertTrue(codes & {"TABLE_NOT_ALLOWED", "UNKNOWN_TABLE"}, body)
    test.assertTrue({v["code"] for v in body["violations"]} & {"TABLE_NOT_ALLOWED", "UNKNOWN_TABLE"}, body)


def superset_login(user):
    """The user's Superset access token, as Superset's own login mints it."""
    resp = requests.post(
        FAKE_SUPERSET_URL + "/api/v1/security/login",
        json={"username": user.username, "password": "pw-" + user.username, "provider": "db"},
        timeout=10,
    )
    resp.raise_for_status()
    return resp.json()["access_token"]


@unittest.skipUnless(SUPERSET_SIDECAR_URL and FAKE_SUPERSET_URL,
                     "the service build has no Superset settings, or the suite runs outside deploy/blueprint_test.go")
class UserTokenScopeThroughSuperset(GenerationMixin, unittest.TestCase):
    """Default scope mode, end to end: the service asks Superset which
    datasets the forwarded user token may see."""

    def setUp(self):
        self.proxy = RecordingProxy(SUPERSET_SIDECAR_URL)
        self.addCleanup(self.proxy.close)
        self.app = make_app(self.proxy.url, TEXT2SQL_USER_TOKEN_FACTORY=superset_login)

    def forwarded_subject(self):
        _, _, token = self.proxy.requests[-1]["headers"]["X-Superset-Authorization"].partition(" ")
        return jwt.decode(token, options={"verify_signature": False})["sub"]

    def test_the_user_gets_sql_on_their_own_tables(self):
        resp = ask(self.app, user="alice")
        self.assertEqual(self.forwarded_subject(), "7")
        self.skip_if_generation_off(resp)
        self.assertEqual(resp.status_code, 200, resp.get_data(as_text=True))
        body = resp.get_json()
        self.assertEqual(body["tables"], ["public.orders"])
        self.assertIn("orders", body["sql"].lower())

    def test_another_user_is_refused_the_same_tables(self):
        assert_refused_outside_scope(self, self.app, "bob")
        self.assertEqual(self.forwarded_subject(), "8")


class BlueprintFailureMapping(unittest.TestCase):
    """How the blueprint answers when the service misbehaves; no service needed."""

    def test_service_down_is_503(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        # Nothing listens on port any more: connection refused.
        app = make_app(f"http://127.0.0.1:{port}", TEXT2SQL_SIDECAR_TOKEN="t" * 20)
        resp = ask(app)
        self.assertEqual(resp.status_code, 503)
        self.assertEqual(resp.headers.get("Retry-After"), "5")
        self.assertIn("unreachable", resp.get_json()["error"])

    def test_service_too_slow_is_504(self):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # accepts connections, never answers
        self.addCleanup(listener.close)
        app = make_app(f"http://127.0.0.1:{listener.getsockname()[1]}", TEXT2SQL_SIDECAR_TOKEN="t" * 20,
                       TEXT2SQL_SIDECAR_TIMEOUT=0.5)
        started = time.monotonic()
        resp = ask(app)
        self.assertEqual(resp.status_code, 504)
        self.assertGreaterEqual(time.monotonic() - started, 0.5)
        self.assertIn("did not answer", resp.get_json()["error"])

    def test_broken_service_answers_are_502(self):
        for status, body in [(500, b"<html>oops</html>"), (200, b"<html>proxy page</html>"), (200, b'{"sql": ""}')]:
            with self.subTest(status=status, body=body):
                server = CannedServer(status, body)
                self.addCleanup(server.close)
                app = make_app(server.url, TEXT2SQL_SIDECAR_TOKEN="t" * 20)
                resp = ask(app)
                self.assertEqual(resp.status_code, 502, resp.get_data(as_text=True))

    def test_service_errors_keep_their_meaning(self):
        failure = {
            "code": 9,
            "message": "no valid SQL after 3 attempts",
            "details": [{
                "@type": "type.googleapis.com/texttosql.v1.GenerationFailure",
                "attempts": [{"number": 1, "sql": "DELETE FROM orders", "violations": [{"code": "NOT_READ_ONLY", "message": "writes"}]}],
                "violations": [{"code": "NOT_READ_ONLY", "message": "writes"}],
                "requestId": "r-1",
            }],
        }
        cases = [
            (422, failure, 422),
            (429, {"code": 8, "message": "slow down"}, 429),
            (503, {"code": 14, "message": "model endpoint down"}, 503),
            (504, {"code": 4, "message": "ran out of time"}, 504),
            (403, {"code": 7, "message": "not yours"}, 403),
            (501, {"code": 12, "message": "no model configured"}, 501),
        ]
        for status, body, want in cases:
            with self.subTest(status=status):
                server = CannedServer(status, json.dumps(body).encode(), "application/json")
                self.addCleanup(server.close)
                resp = ask(make_app(server.url, TEXT2SQL_SIDECAR_TOKEN="t" * 20))
                self.assertEqual(resp.status_code, want, resp.get_data(as_text=True))
                out = resp.get_json()
                self.assertTrue(out["error"])
                if status == 422:
                    self.assertEqual(out["violations"], [{"code": "NOT_READ_ONLY", "message": "writes"}])
                    self.assertEqual(out["attempts"][0]["sql"], "DELETE FROM orders")
                if status in (429, 503):
                    self.assertTrue(resp.headers.get("Retry-After"))

    def test_relative_sqllab_link_when_the_service_has_no_public_url(self):
        answer = {"sql": "SELECT 1", "dialect": "postgresql", "schema": "public", "database": "shop", "sqllabUrl": ""}
        server = CannedServer(200, json.dumps(answer).encode(), "application/json")
        self.addCleanup(server.close)
        resp = ask(make_app(server.url, TEXT2SQL_SIDECAR_TOKEN="t" * 20), body={"database": 3, "question": "one"})
        self.assertEqual(resp.status_code, 200, resp.get_data(as_text=True))
        link = resp.get_json()["sqllabUrl"]
        self.assertTrue(link.startswith("/sqllab/?"), link)
        self.assertIn("dbid=3", link)
        self.assertIn("sql=SELECT+1", link)


class CSRFExemption(unittest.TestCase):
    """Superset exempts views named in WTF_CSRF_EXEMPT_LIST with csrf.exempt."""

    def test_the_exempt_name_is_the_view_flask_wtf_checks(self):
        try:
            from flask_wtf.csrf import CSRFProtect
        except ImportError:
            self.skipTest("Flask-WTF is not installed (Debian: python3-flaskext.wtf)")
        self.assertEqual(text2sql_blueprint.CSRF_EXEMPT_VIEWS, ["text2sql_blueprint.generate"])
        app = make_app("http://127.0.0.1:9", SECRET_KEY="k", WTF_CSRF_ENABLED=True)

        @app.route("/protected", methods=["POST"])
        def protected():
            return "ok"

        csrf = CSRFProtect(app)
        for view in text2sql_blueprint.CSRF_EXEMPT_VIEWS:
            csrf.exempt(view)
        client = app.test_client()
        self.assertEqual(client.post("/protected").status_code, 400)  # CSRF token missing
        # Reaches the blueprint (anonymous: 401), not the CSRF check.
        self.assertEqual(client.post("/api/v1/text2sql/generate", json={}).status_code, 401)


class SupersetConfig(unittest.TestCase):
    """superset_config.py builds its settings from the environment."""

    ENV = {
        "SUPERSET_SECRET_KEY": "s3cret",
        "DB_HOST": "pg.internal", "DB_PORT": "6432", "DB_NAME": "superset", "DB_USER": "svc",
        "DB_PASS": "p@ss:w/rd", "DB_SSLMODE": "require",
        "REDIS_HOST": "redis.internal", "REDIS_PORT": "6380", "REDIS_PASSWORD": "r#pw", "REDIS_TLS": "true",
        "TEXT2SQL_SIDECAR_TOKEN": "token-0123456789abcdef",
    }

    def load(self, env):
        import importlib
        import types

        # Superset's own modules are not installed here: stand-ins for the
        # two names the config imports from them.
        celery_schedules = types.ModuleType("celery.schedules")
        celery_schedules.crontab = lambda **kw: ("crontab", kw)
        rediscache = types.ModuleType("flask_caching.backends.rediscache")
        rediscache.RedisCache = lambda **kw: ("RedisCache", kw)
        stubs = {
            "celery": types.ModuleType("celery"),
            "celery.schedules": celery_schedules,
            "flask_caching": types.ModuleType("flask_caching"),
            "flask_caching.backends": types.ModuleType("flask_caching.backends"),
            "flask_caching.backends.rediscache": rediscache,
        }
        saved_env = dict(os.environ)
        saved_modules = {k: sys.modules.get(k) for k in stubs}
        try:
            os.environ.clear()
            os.environ.update(env)
            sys.modules.update(stubs)
            sys.modules.pop("superset_config", None)
            return importlib.import_module("superset_config")
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
            for k, v in saved_modules.items():
                if v is None:
                    sys.modules.pop(k, None)
                else:
                    sys.modules[k] = v
            sys.modules.pop("superset_config", None)

    def test_urls_from_environment(self):
        cfg = self.load(self.ENV)
        self.assertEqual(cfg.SECRET_KEY, "s3cret")
        self.assertEqual(cfg.SQLALCHEMY_DATABASE_URI,
                         "postgresql+psycopg2://svc:p%40ss%3Aw%2Frd@pg.internal:6432/superset?sslmode=require")
        self.assertEqual(cfg.CACHE_CONFIG["CACHE_REDIS_URL"], "rediss://:r%23pw@redis.internal:6380/1?ssl_cert_reqs=required")
        self.assertEqual(cfg.CeleryConfig.broker_url, "rediss://:r%23pw@redis.internal:6380/0?ssl_cert_reqs=required")
        self.assertEqual(cfg.RESULTS_BACKEND[1]["db"], 2)
        self.assertTrue(cfg.RESULTS_BACKEND[1]["ssl"])
        self.assertEqual(len(cfg.BLUEPRINTS), 1)
        self.assertIs(cfg.BLUEPRINTS[0], text2sql_blueprint.blueprint)
        self.assertIn("text2sql_blueprint.generate", cfg.WTF_CSRF_EXEMPT_LIST)
        self.assertEqual(cfg.TEXT2SQL_SCOPE_MODE, "user-token")
        self.assertTrue(cfg.FEATURE_FLAGS["ALERT_REPORTS"])

    def test_plain_redis_without_password(self):
        env = dict(self.ENV, REDIS_TLS="false", REDIS_PASSWORD="")
        cfg = self.load(env)
        self.assertEqual(cfg.CACHE_CONFIG["CACHE_REDIS_URL"], "redis://redis.internal:6380/1")

    def test_missing_secret_key_stops_superset(self):
        env = dict(self.ENV)
        del env["SUPERSET_SECRET_KEY"]
        with self.assertRaisesRegex(RuntimeError, "SUPERSET_SECRET_KEY"):
            self.load(env)


if __name__ == "__main__":
    unittest.main()
