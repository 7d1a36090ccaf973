"""Superset side of text2sql: POST /api/v1/text2sql/generate.

Registered through superset_config.py:

    from text2sql_blueprint import blueprint as text2sql_blueprint, CSRF_EXEMPT_VIEWS
    BLUEPRINTS = [text2sql_blueprint]
    WTF_CSRF_EXEMPT_LIST = [*WTF_CSRF_EXEMPT_LIST, *CSRF_EXEMPT_VIEWS]

The endpoint answers logged-in users only (Superset session cookie, or a
Superset access token in "Authorization: Bearer"). It forwards the question
to the text2sql service with the service's own bearer token and tells the
service who is asking, in one of two ways (TEXT2SQL_SCOPE_MODE):

  user-token   (default) a short-lived Superset access token minted for the
               user goes along in X-Superset-Authorization; the service asks
               Superset which datasets that token may see.
  dataset-ids  the ids of the datasets the user may see, computed here with
               Superset's own dataset filter, go along in scope.dataset_ids;
               the service honours them only for a caller it trusts.

Either way the request carries scope.user, so a service that trusts this
caller never falls back to "every table": a scope without dataset ids means
no tables at all.

Settings are read from Superset's config (superset_config.py), falling back
to environment variables of the same names:

  TEXT2SQL_SIDECAR_URL      base URL of the service (default http://text2sql:8080)
  TEXT2SQL_SIDECAR_TOKEN    the bearer token the service knows Superset by (required)
  TEXT2SQL_SCOPE_MODE       user-token or dataset-ids (default user-token)
  TEXT2SQL_SIDECAR_TIMEOUT  seconds to wait for an answer (default 60)
  TEXT2SQL_CONNECT_TIMEOUT  seconds to wait for a connection (default 3)
  TEXT2SQL_USER_TOKEN_TTL   lifetime of a minted user token, seconds (default 300)
  TEXT2SQL_ALLOWED_ROLES    role names allowed to use the endpoint, comma-separated
                            (default empty: every logged-in user)

Two hooks replace Superset internals where a deployment needs to:
TEXT2SQL_USER_TOKEN_FACTORY (callable(user) -> access token) and
TEXT2SQL_DATASET_RESOLVER (callable(user, database) -> dataset ids).

The module only needs Flask and requests, which Superset ships.
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from datetime import timedelta
from typing import Any, Callable, Iterable, Optional
from urllib.parse import urlencode

import requests
from flask import Blueprint, Response, current_app, g, jsonify, request

logger = logging.getLogger(__name__)

blueprint = Blueprint("text2sql", __name__, url_prefix="/api/v1/text2sql")

SCOPE_USER_TOKEN = "user-token"
SCOPE_DATASET_IDS = "dataset-ids"

_DEFAULTS: dict[str, Any] = {
    "TEXT2SQL_SIDECAR_URL": "http://text2sql:8080",
    "TEXT2SQL_SIDECAR_TOKEN": "",
    "TEXT2SQL_SCOPE_MODE": SCOPE_USER_TOKEN,
    "TEXT2SQL_SIDECAR_TIMEOUT": 60.0,
    "TEXT2SQL_CONNECT_TIMEOUT": 3.0,
    "TEXT2SQL_USER_TOKEN_TTL": 300,
    "TEXT2SQL_ALLOWED_ROLES": "",
    "TEXT2SQL_USER_TOKEN_FACTORY": None,
    "TEXT2SQL_DATASET_RESOLVER": None,
}

# Request limits checked here so an oversized request never reaches the
# service; the service enforces its own (smaller or larger) limits too.
MAX_BODY_BYTES = 256 * 1024
MAX_HISTORY_TURNS = 20

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")

# One connection pool per process: gunicorn workers are processes.
_session = requests.Session()


def _setting(name: str) -> Any:
    if name in current_app.config:
        return current_app.config[name]
    if name in os.environ:
        return os.environ[name]
    return _DEFAULTS[name]


def _float_setting(name: str) -> float:
    try:
        value = float(_setting(name))
    except (TypeError, ValueError):
        raise _Misconfigured(f"{name} is not a number")
    if value <= 0:
        raise _Misconfigured(f"{name} must be positive")
    return value


class _Misconfigured(Exception):
    """A setting of this deployment is wrong: the operator's problem."""


def _error(status: int, message: str, **extra: Any) -> Response:
    body = {"error": message}
    body.update(extra)
    resp = jsonify(body)
    resp.status_code = status
    return resp


def _is_authenticated(user: Any) -> bool:
    return (
        user is not None
        and bool(getattr(user, "is_authenticated", False))
        and not bool(getattr(user, "is_anonymous", True))
        and getattr(user, "id", None) is not None
    )


def _current_user() -> Optional[Any]:
    """The logged-in user: Superset's session user, else a Superset JWT."""
    user = getattr(g, "user", None)
    if _is_authenticated(user):
        return user
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer "):
        return None
    try:
        from flask_jwt_extended import current_user as jwt_user
        from flask_jwt_extended import verify_jwt_in_request
    except ImportError:
        return None
    try:
        # FAB's JWT user loader sets g.user as a side effect.
        verify_jwt_in_request()
    except Exception:  # expired, malformed, wrong signature: not logged in
        return None
    user = getattr(g, "user", None)
    if not _is_authenticated(user):
        user = jwt_user
    return user if _is_authenticated(user) else None


def _role_names(user: Any) -> set[str]:
    return {getattr(r, "name", str(r)) for r in (getattr(user, "roles", None) or [])}


def _allowed_roles() -> set[str]:
    value = _setting("TEXT2SQL_ALLOWED_ROLES") or ""
    if isinstance(value, str):
        value = value.split(",")
    return {str(v).strip() for v in value if str(v).strip()}


def _mint_user_token(user: Any) -> str:
    factory: Optional[Callable[[Any], str]] = _setting("TEXT2SQL_USER_TOKEN_FACTORY")
    if factory is not None:
        return factory(user)
    try:
        from flask_jwt_extended import create_access_token
    except ImportError:
        raise _Misconfigured("user-token scope needs flask_jwt_extended (Superset ships it) or TEXT2SQL_USER_TOKEN_FACTORY")
    ttl = int(_float_setting("TEXT2SQL_USER_TOKEN_TTL"))
    # The same identity FAB's /api/v1/security/login puts in its tokens,
    # so Superset resolves it to this user and applies their permissions.
    return create_access_token(identity=str(user.id), expires_delta=timedelta(seconds=ttl))


def _dataset_matches(dataset: Any, database: str) -> bool:
    if str(getattr(dataset, "database_id", "")) == database:
        return True
    db = getattr(dataset, "database", None)
    return db is not None and (
        getattr(db, "database_name", None) == database or str(getattr(db, "id", "")) == database
    )


def _superset_visible_datasets() -> Iterable[Any]:
    # The same filter (DatasourceFilter) that GET /api/v1/dataset/ applies
    # for the current user, so both scope modes agree.
    try:
        from superset.daos.dataset import DatasetDAO

        return DatasetDAO.find_all()
    except (ImportError, AttributeError):
        from superset import security_manager

        return security_manager.get_user_datasources()


def _visible_dataset_ids(user: Any, database: str) -> list[int]:
    resolver: Optional[Callable[[Any, str], Iterable[int]]] = _setting("TEXT2SQL_DATASET_RESOLVER")
    if resolver is not None:
        ids = resolver(user, database)
    else:
        ids = (d.id for d in _superset_visible_datasets() if _dataset_matches(d, database))
    return sorted({int(i) for i in ids})


def _parse_request(body: Any) -> tuple[dict[str, Any], Optional[str]]:
    """Validates the caller's JSON; returns (request for the service, error)."""
    if not isinstance(body, dict):
        return {}, "the body must be a JSON object"
    question = body.get("question")
    if not isinstance(question, str) or not question.strip():
        return {}, "question is required (a non-empty string)"
    database = body.get("database")
    if isinstance(database, bool) or not isinstance(database, (str, int)) or str(database).strip() == "":
        return {}, "database is required (a Superset database name or id)"
    out: dict[str, Any] = {"database": str(database).strip(), "question": question}
    history = body.get("history", [])
    if history is None:
        history = []
    if not isinstance(history, list) or len(history) > MAX_HISTORY_TURNS:
        return {}, f"history must be a list of at most {MAX_HISTORY_TURNS} turns"
    turns = []
    for i, turn in enumerate(history):
        if not isinstance(turn, dict):
            return {}, f"history[{i}] must be an object with question and sql"
        q, s = turn.get("question", ""), turn.get("sql", "")
        if not isinstance(q, str) or not isinstance(s, (str, type(None))):
            return {}, f"history[{i}]: question and sql must be strings"
        turns.append({"question": q, "sql": s or ""})
    if turns:
        out["history"] = turns
    max_rows = body.get("maxRows", body.get("max_rows"))
    if max_rows is not None:
        if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 0:
            return {}, "maxRows must be a non-negative integer"
        out["max_rows"] = max_rows
    return out, None


def _request_id() -> str:
    rid = request.headers.get("X-Request-Id", "")
    return rid if _REQUEST_ID_RE.match(rid) else uuid.uuid4().hex


def _sqllab_link(answer: dict[str, Any], database: str, question: str) -> str:
    link = answer.get("sqllabUrl") or ""
    if link or not database.isdigit():
        return link
    # The service has no public Superset URL configured: a relative link
    # still opens SQL Lab on the Superset that served this request.
    params = {"dbid": database, "sql": answer.get("sql", ""), "name": question[:60]}
    if answer.get("schema"):
        params["schema"] = answer["schema"]
    return "/sqllab/?" + urlencode(params)


def _failure_details(body: dict[str, Any]) -> dict[str, Any]:
    for detail in body.get("details") or []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith(".GenerationFailure"):
            return detail
    return {}


def _message(body: Any, fallback: str) -> str:
    if isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"]:
        return body["message"]
    return fallback


@blueprint.route("/generate", methods=["POST"])
def generate() -> Response:
    """Turns a question into one validated, read-only SQL statement."""
    started = time.monotonic()
    rid = _request_id()
    user = _current_user()
    if user is None:
        resp = _error(401, "log in to Superset to use text2sql")
        resp.headers["WWW-Authenticate"] = 'Bearer realm="superset"'
        return resp
    roles = _allowed_roles()
    if roles and not (_role_names(user) & roles):
        return _error(403, "your Superset roles do not include text2sql access")
    # JSON only: a cross-site form cannot send it without a CORS preflight,
    # which is what keeps this CSRF-exempt POST safe for cookie sessions.
    if not request.is_json:
        return _error(415, "send the request as application/json")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return _error(413, f"the request body is larger than {MAX_BODY_BYTES} bytes")
    body = request.get_json(silent=True)
    payload, problem = _parse_request(body)
    if problem:
        return _error(400, problem)

    try:
        token = _setting("TEXT2SQL_SIDECAR_TOKEN")
        if not token:
            raise _Misconfigured("TEXT2SQL_SIDECAR_TOKEN is not set")
        base = str(_setting("TEXT2SQL_SIDECAR_URL")).rstrip("/")
        read_timeout = _float_setting("TEXT2SQL_SIDECAR_TIMEOUT")
        connect_timeout = _float_setting("TEXT2SQL_CONNECT_TIMEOUT")
        mode = _setting("TEXT2SQL_SCOPE_MODE")
        headers = {
            "Authorization": f"Bearer {token}",
            "X-Request-Id": rid,
            # grpc-gateway turns this into the RPC deadline, so the service
            # stops working on a request this side has given up on.
            "Grpc-Timeout": f"{int(read_timeout * 1000)}m",
        }
        scope: dict[str, Any] = {"user": str(getattr(user, "username", "") or user.id)}
        if mode == SCOPE_USER_TOKEN:
            headers["X-Superset-Authorization"] = f"Bearer {_mint_user_token(user)}"
        elif mode == SCOPE_DATASET_IDS:
            scope["dataset_ids"] = _visible_dataset_ids(user, payload["database"])
        else:
            raise _Misconfigured(f"TEXT2SQL_SCOPE_MODE is {mode!r}; use {SCOPE_USER_TOKEN} or {SCOPE_DATASET_IDS}")
        payload["scope"] = scope
    except _Misconfigured as exc:
        logger.error("text2sql blueprint misconfigured: %s", exc)
        return _error(500, "text2sql is misconfigured on this Superset; see the server log", requestId=rid)

    status = None
    try:
        resp = _session.post(
            f"{base}/v1/sql:generate",
            json=payload,
            headers=headers,
            timeout=(connect_timeout, read_timeout),
        )
        status = resp.status_code
    except requests.ConnectTimeout:
        return _unavailable(rid, "the text2sql service did not accept the connection")
    except requests.ReadTimeout:
        logger.warning("text2sql timed out after %gs (request %s)", read_timeout, rid)
        return _error(504, f"the text2sql service did not answer within {read_timeout:g}s", requestId=rid)
    except requests.ConnectionError:
        return _unavailable(rid, "the text2sql service is unreachable")
    finally:
        logger.info(
            "text2sql generate user=%s database=%s status=%s request_id=%s duration_ms=%d",
            getattr(user, "id", None),
            payload.get("database"),
            status,
            rid,
            (time.monotonic() - started) * 1000,
        )
    return _translate(resp, rid, payload)


def _unavailable(rid: str, message: str) -> Response:
    logger.warning("%s (request %s)", message, rid)
    resp = _error(503, message + "; try again shortly", requestId=rid)
    resp.headers["Retry-After"] = "5"
    return resp


def _translate(resp: requests.Response, rid: str, payload: dict[str, Any]) -> Response:
    """Maps the service's answer to this endpoint's."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("requestId"):
        rid = str(body["requestId"])
    else:
        rid = resp.headers.get("X-Request-Id", rid)
    code = resp.status_code

    if code == 200 and isinstance(body, dict) and isinstance(body.get("sql"), str) and body["sql"]:
        return jsonify(
            {
                "sql": body["sql"],
                "dialect": body.get("dialect", ""),
                "database": body.get("database", payload["database"]),
                "schema": body.get("schema", ""),
                "tables": body.get("tables", []),
                "sqllabUrl": _sqllab_link(body, payload["database"], payload["question"]),
                "cached": bool(body.get("cached", False)),
                "attempts": body.get("attempts", []),
                "usage": body.get("usage", {}),
                "requestId": rid,
            }
        )
    if code == 200:
        logger.error("text2sql answered 200 without SQL (request %s)", rid)
        return _error(502, "the text2sql service answered without SQL", requestId=rid)

    message = _message(body, f"the text2sql service answered HTTP {code}")
    if code == 422:
        failure = _failure_details(body) if isinstance(body, dict) else {}
        return _error(
            422,
            message,
            violations=failure.get("violations", []),
            attempts=failure.get("attempts", []),
            requestId=rid,
        )
    if code in (400, 403, 404, 413):
        return _error(code, message, requestId=rid)
    if code == 429:
        out = _error(429, message, requestId=rid)
        out.headers["Retry-After"] = resp.headers.get("Retry-After", "1")
        return out
    if code == 401:
        # Either Superset's service token or the minted user token was
        # refused: a deployment problem, not the user's.
        logger.error("text2sql refused Superset's credentials (request %s): %s", rid, message)
        return _error(502, "the text2sql service refused Superset's credentials; ask an administrator", requestId=rid)
    if code == 501:
        return _error(501, "SQL generation is not enabled on the text2sql service", detail=message, requestId=rid)
    if code == 503:
        return _unavailable(rid, "the text2sql service is unavailable")
    if code == 504:
        return _error(504, message, requestId=rid)
    logger.error("text2sql answered HTTP %s (request %s): %s", code, rid, message)
    return _error(502, "the text2sql service failed; try again later", requestId=rid)


# Flask-WTF names views "<module>.<function>"; superset_config.py adds these
# to WTF_CSRF_EXEMPT_LIST.
CSRF_EXEMPT_VIEWS = [f"{generate.__module__}.{generate.__name__}"]
