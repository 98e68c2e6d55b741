"""A small, real JQL parser and evaluator for the Jira Cloud simulator.

Usage (routes/issues.py):

    q = compile_jql(text, tz=ZoneInfo(user_tz), now=sim_clock_now)   # JqlError / UnboundedJqlError -> 400
    q.validate(project_exists=lambda ref: ..., issue_key_exists=lambda key: ...)  # optional, JqlError -> 400
    hits = q.sort([i for i in issues if q.matches(i)])

Answer a JqlError as ``{"errorMessages": err.messages, "errors": {}}`` with status 400 (``err.messages`` is a list;
``str(err)`` is the first message).

What is supported (the subset a connector uses, parsed properly -- tokenizer + recursive descent, never eval):

* clauses ``field OP value``, ``field [NOT] IN (v, ...)``, ``field IS [NOT] EMPTY|NULL``; ``AND``/``&&``,
  ``OR``/``||``, ``NOT``/``!`` and parentheses with Jira's precedence (NOT > AND > OR); keywords and field names are
  case-insensitive; values are bare words or single/double-quoted strings (backslash escapes).
* ``project`` (key or numeric id), ``key``/``issuekey``/``issue``, ``id`` (=, !=, IN, NOT IN, and <, <=, >, >= which
  compare within one project for keys), ``created``/``createdDate``, ``updated``/``updatedDate``.
* any other known system field (status, issuetype/type, assignee, reporter, priority, resolution, labels,
  statusCategory, parent, sprint, ...) with =, !=, IN, NOT IN, IS [NOT] EMPTY, evaluated through
  ``issue.field(canonical_name)``; a dict value matches on its name/id/key/value/accountId/displayName, a list matches
  when any element does. ``currentUser()`` works when ``current_user`` (an accountId) is given; any other function
  in a value position (``unreleasedVersions()``, ``openSprints()``, ``membersOf("x")``...) is answered by the optional
  ``functions(name_lowercase, args) -> list of values | None`` hook (None = "Unable to find JQL function").

Date semantics (what Jira does, docs/jira-api.md "Time"):

* literals ``"yyyy-MM-dd HH:mm"``, ``"yyyy/MM/dd HH:mm"``, ``"yyyy-MM-dd"``, ``"yyyy/MM/dd"`` are wall-clock times
  in the *caller's* time zone ``tz``; a date alone is local midnight.
* DST: a wall time that occurs twice (fall-back) or never (spring-forward gap) resolves to the *later* candidate
  instant, which is what java.util.GregorianCalendar / ICU (WALLTIME_LAST) do; e.g. Sydney "2025-04-06 02:30" (twice)
  is 02:30+10:00, and "2025-10-05 02:30" (skipped) is 03:30+11:00.
* epoch milliseconds (``updated >= 1700000000000``) and periods relative to ``now`` (``-5m``, ``-2h``, ``-1d``
  = 24 h, ``-1w``, ``"4w 2d"``, ``+1h``) and ``now()``.
* Minute granularity: Jira compares dates at minute precision, so both the issue timestamp and the literal are
  floored to the whole minute (in epoch terms; every modern offset is a whole number of minutes) before comparing.
  So ``updated >= "2025-01-01 10:05"`` includes 10:05:00.000 local onwards, ``updated > "... 10:05"`` starts at
  10:06:00.000, ``updated = "... 10:05"`` matches 10:05:00-10:05:59.999.

Ordering: ``ORDER BY`` supports updated, created, id, key/issuekey (key = project key, then issue number),
project (by key), rank (``issue.field("rank")`` string, then id) and any other known field (by its name/value string;
priority therefore sorts by name, not by Jira's priority sequence). Ties are broken by id ascending so paging is deterministic. Without ORDER BY the simulator orders
by ``key DESC`` (newest issue first) -- Jira documents no default; key DESC is what its issue navigator shows for a
JQL without ORDER BY and is what third-party clients report, so treat it as observed, not contractual.

Bounded: a query with no clause at all (empty, or only ``ORDER BY``) raises UnboundedJqlError with Jira's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Sequence
from zoneinfo import ZoneInfo

__all__ = [
    "JqlError",
    "UnboundedJqlError",
    "JqlQuery",
    "compile_jql",
    "local_to_instant",
    "UNBOUNDED_MESSAGE",
]

UNBOUNDED_MESSAGE = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
_PREFIX = "Error in the JQL Query: "
_VALID_OPS = ("The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and "
              "'IS NOT'.")
_DATE_FORMATS_MSG = ("Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', "
                     "or a period format e.g. '-5d', '4w 2d'.")


class JqlError(ValueError):
    """Malformed or unanswerable JQL; ``messages`` are Jira's errorMessages (a 400 ErrorCollection)."""

    def __init__(self, message: str | Sequence[str]):
        msgs = [message] if isinstance(message, str) else list(message)
        super().__init__(msgs[0])
        self.messages: list[str] = msgs


class UnboundedJqlError(JqlError):
    def __init__(self) -> None:
        super().__init__(UNBOUNDED_MESSAGE)


# --------------------------------------------------------------------------------------------------------------------
# tokenizer

@dataclass(frozen=True)
class _Tok:
    kind: str  # WORD, STRING, OP, LPAREN, RPAREN, COMMA, AND, OR, NOT, EOF
    text: str  # value (unescaped for STRING)
    pos: int  # 1-based character position, as in Jira's "(line 1, character N)"
    raw: str = ""


_OPS = ("!=", ">=", "<=", "!~", "=", ">", "<", "~")
_WORD_STOP = set(" \t\r\n()=,!<>~\"'&|")


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        pos = i + 1
        if c == "(":
            toks.append(_Tok("LPAREN", c, pos, c)); i += 1; continue
        if c == ")":
            toks.append(_Tok("RPAREN", c, pos, c)); i += 1; continue
        if c == ",":
            toks.append(_Tok("COMMA", c, pos, c)); i += 1; continue
        if text.startswith("&&", i):
            toks.append(_Tok("AND", "&&", pos, "&&")); i += 2; continue
        if text.startswith("||", i):
            toks.append(_Tok("OR", "||", pos, "||")); i += 2; continue
        op = next((o for o in _OPS if text.startswith(o, i)), None)
        if op:
            toks.append(_Tok("OP", op, pos, op)); i += len(op); continue
        if c == "!":
            toks.append(_Tok("NOT", "!", pos, "!")); i += 1; continue
        if c in "\"'":
            j, buf = i + 1, []
            while j < n and text[j] != c:
                if text[j] == "\\" and j + 1 < n:
                    nxt = text[j + 1]
                    if nxt == "u" and j + 5 < n + 0 and re.fullmatch(r"[0-9a-fA-F]{4}", text[j + 2:j + 6]):
                        buf.append(chr(int(text[j + 2:j + 6], 16))); j += 6; continue
                    buf.append({"n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt)); j += 2; continue
                buf.append(text[j]); j += 1
            if j >= n:
                raise JqlError(f"{_PREFIX}The quoted string '{text[i + 1:]}' has not been completed. "
                               f"(line 1, character {pos})")
            toks.append(_Tok("STRING", "".join(buf), pos, text[i:j + 1]))
            i = j + 1
            continue
        if c in "&|":
            raise JqlError(f"{_PREFIX}The character '{c}' is a reserved JQL character. You must enclose it in a "
                           f"string or use the escape '\\u{ord(c):04x}' instead. (line 1, character {pos})")
        j = i
        while j < n and text[j] not in _WORD_STOP:
            j += 1
        word = text[i:j]
        up = word.upper()
        kind = up if up in ("AND", "OR", "NOT") else "WORD"
        toks.append(_Tok(kind, word, pos, word))
        i = j
    toks.append(_Tok("EOF", "", n + 1))
    return toks


# --------------------------------------------------------------------------------------------------------------------
# AST and values

@dataclass(frozen=True)
class _Val:
    text: str
    quoted: bool
    func: str | None = None  # lower-cased function name for `name()` values
    empty: bool = False  # EMPTY / NULL keyword


@dataclass
class _Clause:
    field: str  # canonical field name
    op: str  # =, !=, <, <=, >, >=, in, not in, is, is not
    values: list[Any]  # compiled operands
    raw_field: str


@dataclass
class _Not:
    child: Any


@dataclass
class _And:
    children: list


@dataclass
class _Or:
    children: list


# canonical names; aliases map to them
_FIELD_ALIASES = {
    "project": "project",
    "key": "key", "issuekey": "key", "issue": "key",
    "id": "id",
    "created": "created", "createddate": "created",
    "updated": "updated", "updateddate": "updated",
    "status": "status", "issuetype": "issuetype", "type": "issuetype",
    "assignee": "assignee", "reporter": "reporter", "creator": "creator",
    "priority": "priority", "resolution": "resolution", "labels": "labels",
    "statuscategory": "statusCategory", "parent": "parent", "sprint": "sprint",
    "component": "components", "fixversion": "fixVersions", "affectedversion": "versions",
    "rank": "rank",
}
_DATE_FIELDS = {"created", "updated"}
_ID_FIELDS = {"key", "id"}
_EQ_OPS = {"=", "!=", "in", "not in", "is", "is not"}
_ORDER_OPS = {"<", "<=", ">", ">="}

_ABS_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?$")
_PERIOD = re.compile(r"^([+-])?\s*((?:\d+\s*[wdhm]\s*)+)$", re.IGNORECASE)
_PERIOD_PART = re.compile(r"(\d+)\s*([wdhm])", re.IGNORECASE)
_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)-(\d+)$")
_UNIT = {"w": 7 * 24 * 60, "d": 24 * 60, "h": 60, "m": 1}


def local_to_instant(wall: datetime, tz: ZoneInfo) -> datetime:
    """Wall-clock time in ``tz`` -> aware instant; DST overlaps and gaps resolve to the later candidate (Java's rule)."""
    a = wall.replace(tzinfo=tz, fold=0)
    b = wall.replace(tzinfo=tz, fold=1)
    return max(a.astimezone(timezone.utc), b.astimezone(timezone.utc))


def _epoch_minute(dt: datetime) -> int:
    if dt.tzinfo is None:
        raise ValueError("issue timestamps must be timezone-aware")
    return int(dt.timestamp() // 60)


def _issue_number(key: str) -> int:
    m = _KEY.match(key)
    return int(m.group(2)) if m else 0


# --------------------------------------------------------------------------------------------------------------------
# parser

class _Parser:
    def __init__(self, text: str, tz: ZoneInfo, now: datetime, current_user: str | None,
                 functions: Callable[[str, list[str]], list[Any] | None] | None = None):
        self.functions = functions
        self.toks = _tokenize(text)
        self.i = 0
        self.tz = tz
        self.now = now
        self.current_user = current_user
        self.project_refs: list[str] = []
        self.key_refs: list[str] = []
        self.errors: list[str] = []  # semantic errors, reported together like Jira

    # helpers
    def peek(self, k: int = 0) -> _Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def take(self) -> _Tok:
        t = self.toks[self.i]
        self.i = min(self.i + 1, len(self.toks) - 1)
        return t

    def is_word(self, t: _Tok, word: str) -> bool:
        return t.kind == "WORD" and t.text.upper() == word

    @staticmethod
    def got(t: _Tok) -> str:
        return f"but got '{t.raw}'. (line 1, character {t.pos})"

    # grammar
    def parse(self) -> tuple[Any, list[tuple[str, bool]], bool]:
        where = None
        if not (self.peek().kind == "EOF" or self.is_word(self.peek(), "ORDER")):
            where = self.parse_or()
        order: list[tuple[str, bool]] = []
        explicit = False
        t = self.peek()
        if self.is_word(t, "ORDER"):
            self.take()
            explicit = True
            by = self.take()
            if by.kind == "EOF":
                raise JqlError(f"{_PREFIX}Expecting 'BY' before the end of the query.")
            if not self.is_word(by, "BY"):
                raise JqlError(f"{_PREFIX}Expecting 'BY' {self.got(by)}")
            order = self.parse_order()
        elif t.kind != "EOF":
            if t.kind == "RPAREN":
                raise JqlError(f"{_PREFIX}Expecting either 'OR' or 'AND' {self.got(t)}")
            raise JqlError(f"{_PREFIX}Expecting either 'OR' or 'AND' {self.got(t)}")
        if self.errors:
            raise JqlError(self.errors)
        return where, order, explicit

    def parse_or(self):
        kids = [self.parse_and()]
        while self.peek().kind == "OR":
            self.take()
            kids.append(self.parse_and())
        return kids[0] if len(kids) == 1 else _Or(kids)

    def parse_and(self):
        kids = [self.parse_not()]
        while self.peek().kind == "AND":
            self.take()
            kids.append(self.parse_not())
        return kids[0] if len(kids) == 1 else _And(kids)

    def parse_not(self):
        t = self.peek()
        if t.kind == "NOT":
            self.take()
            return _Not(self.parse_not())
        if t.kind == "LPAREN":
            self.take()
            inner = self.parse_or()
            close = self.take()
            if close.kind == "EOF":
                raise JqlError(f"{_PREFIX}Expecting ')' before the end of the query.")
            if close.kind != "RPAREN":
                raise JqlError(f"{_PREFIX}Expecting ')' {self.got(close)}")
            return inner
        return self.parse_clause()

    def parse_clause(self) -> _Clause:
        ft = self.take()
        if ft.kind == "EOF":
            raise JqlError(f"{_PREFIX}Expecting a field name before the end of the query.")
        if ft.kind not in ("WORD", "STRING"):
            raise JqlError(f"{_PREFIX}Expecting a field name {self.got(ft)}")
        op = self.parse_operator()
        if op in ("is", "is not"):
            v = self.take()
            if v.kind == "EOF":
                raise JqlError(f"{_PREFIX}Expecting 'EMPTY' before the end of the query.")
            if not (self.is_word(v, "EMPTY") or self.is_word(v, "NULL")):
                raise JqlError(f"{_PREFIX}Expecting 'EMPTY' {self.got(v)}")
            vals: list[_Val] = [_Val("EMPTY", False, empty=True)]
        elif op in ("in", "not in"):
            lp = self.take()
            if lp.kind == "EOF":
                raise JqlError(f"{_PREFIX}Expecting either a value, list or function before the end of the query.")
            if lp.kind != "LPAREN":
                if lp.kind in ("WORD", "STRING"):  # `project in X` is accepted by Jira as a 1-element list
                    vals = [self.value_from(lp)]
                else:
                    raise JqlError(f"{_PREFIX}Expecting '(' {self.got(lp)}")
            else:
                vals = [self.parse_value()]
                while True:
                    t = self.take()
                    if t.kind == "COMMA":
                        vals.append(self.parse_value())
                        continue
                    if t.kind == "RPAREN":
                        break
                    if t.kind == "EOF":
                        raise JqlError(f"{_PREFIX}Expecting ')' before the end of the query.")
                    raise JqlError(f"{_PREFIX}Expecting ')' {self.got(t)}")
        else:
            vals = [self.parse_value()]
        return self.compile_clause(ft, op, vals)

    def parse_operator(self) -> str:
        t = self.take()
        if t.kind == "OP":
            return t.text
        if self.is_word(t, "IN"):
            return "in"
        if t.kind == "NOT" and t.text.upper() == "NOT" and self.is_word(self.peek(), "IN"):
            self.take()
            return "not in"
        if self.is_word(t, "IS"):
            if self.peek().kind == "NOT":
                self.take()
                return "is not"
            return "is"
        if t.kind == "EOF":
            raise JqlError(f"{_PREFIX}Expecting operator before the end of the query. {_VALID_OPS}")
        raise JqlError(f"{_PREFIX}Expecting operator but got '{t.raw}'. {_VALID_OPS} (line 1, character {t.pos})")

    def parse_value(self) -> _Val:
        t = self.take()
        if t.kind == "EOF":
            raise JqlError(f"{_PREFIX}Expecting either a value, list or function before the end of the query.")
        if t.kind not in ("WORD", "STRING"):
            raise JqlError(f"{_PREFIX}Expecting either a value, list or function but got '{t.raw}'. You must "
                           f"surround '{t.raw}' in quotation marks to use it as a value. (line 1, character {t.pos})")
        return self.value_from(t)

    def value_from(self, t: _Tok) -> _Val:
        if t.kind == "STRING":
            return _Val(t.text, True)
        up = t.text.upper()
        if up in ("EMPTY", "NULL"):
            return _Val(t.text, False, empty=True)
        if self.peek().kind == "LPAREN":  # function call: name(args...)
            self.take()
            args = []
            while self.peek().kind not in ("RPAREN", "EOF"):
                a = self.take()
                if a.kind not in ("WORD", "STRING", "COMMA"):
                    raise JqlError(f"{_PREFIX}Expecting ')' {self.got(a)}")
                if a.kind != "COMMA":
                    args.append(a.text)
            if self.take().kind == "EOF":
                raise JqlError(f"{_PREFIX}Expecting ')' before the end of the query.")
            return _Val(",".join(args), False, func=t.text.lower())
        return _Val(t.text, False)

    def parse_order(self) -> list[tuple[str, bool]]:
        order: list[tuple[str, bool]] = []
        while True:
            t = self.take()
            if t.kind == "EOF":
                raise JqlError(f"{_PREFIX}Expecting a field name before the end of the query.")
            if t.kind not in ("WORD", "STRING"):
                raise JqlError(f"{_PREFIX}Expecting a field name {self.got(t)}")
            canon = _FIELD_ALIASES.get(t.text.lower())
            if canon is None:
                self.errors.append(f"Field '{t.text}' does not exist or you do not have permission to view it.")
            asc = True
            nxt = self.peek()
            if self.is_word(nxt, "ASC") or self.is_word(nxt, "DESC"):
                asc = self.take().text.upper() == "ASC"
            if canon is not None:
                order.append((canon, asc))
            t = self.peek()
            if t.kind == "COMMA":
                self.take()
                continue
            if t.kind == "EOF":
                return order
            raise JqlError(f"{_PREFIX}Expecting ',' {self.got(t)}")

    # semantics
    def compile_clause(self, ft: _Tok, op: str, vals: list[_Val]) -> _Clause:
        canon = _FIELD_ALIASES.get(ft.text.lower())
        if canon is None:
            self.errors.append(f"Field '{ft.text}' does not exist or you do not have permission to view it.")
            return _Clause("?", op, [], ft.text)
        allowed = set(_EQ_OPS)
        if canon in _DATE_FIELDS or canon in _ID_FIELDS:
            allowed |= _ORDER_OPS
        if canon in _ID_FIELDS:
            allowed -= {"is", "is not"}
        if op not in allowed:
            self.errors.append(f"The operator '{op.upper() if op[0].isalpha() else op}' is not supported by the "
                               f"'{ft.text}' field.")
            return _Clause(canon, op, [], ft.text)
        if op == "=" and len(vals) == 1 and vals[0].empty:
            op = "is"
        elif op == "!=" and len(vals) == 1 and vals[0].empty:
            op = "is not"
        out: list[Any] = []
        for v in vals:
            if v.empty:
                out.append(None)
            elif canon in _DATE_FIELDS:
                out.append(self.date_minute(v, ft.text))
            elif canon == "project":
                self.project_refs.append(v.text)
                out.append(v.text.upper())
            elif canon == "key":
                out.append(self.key_value(v, ft.text))
            elif canon == "id":
                out.append(self.id_value(v, ft.text))
            else:
                out.extend(self.generic_value(v, ft.text))
        if op == "=" and len(out) != 1:
            op = "in"
        elif op == "!=" and len(out) != 1:
            op = "not in"
        return _Clause(canon, op, out, ft.text)

    def date_minute(self, v: _Val, fname: str) -> int | None:
        if v.func is not None:
            if v.func == "now":
                return _epoch_minute(self.now)
            self.errors.append(f"Unable to find JQL function '{v.func}()'.")
            return None
        s = v.text.strip()
        if re.fullmatch(r"-?\d+", s) and not _ABS_DATE.match(s):
            return int(s) // 60000  # epoch milliseconds (floor division keeps pre-1970 floor semantics)
        m = _ABS_DATE.match(s)
        if m:
            y, mo, d, hh, mi = m.groups()
            try:
                wall = datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0))
            except ValueError:
                wall = None
            if wall is not None and (hh is None or int(hh) < 24):
                return _epoch_minute(local_to_instant(wall, self.tz))
        m = _PERIOD.match(s)
        if m:
            minutes = sum(int(n) * _UNIT[u.lower()] for n, u in _PERIOD_PART.findall(m.group(2)))
            sign = -1 if m.group(1) == "-" else 1
            return _epoch_minute(self.now + timedelta(minutes=sign * minutes))
        self.errors.append(f"Date value '{v.text}' for field '{fname}' is invalid. {_DATE_FORMATS_MSG}")
        return None

    def key_value(self, v: _Val, fname: str) -> Any:
        if v.func is not None:
            self.errors.append(f"Unable to find JQL function '{v.func}()'.")
            return None
        s = v.text.strip()
        m = _KEY.match(s)
        if m:
            self.key_refs.append(s.upper())
            return ("key", m.group(1).upper(), int(m.group(2)))
        if s.isdigit():  # Jira accepts an issue id where a key is expected
            return ("id", int(s))
        self.errors.append(f"The issue key '{v.text}' for field '{fname}' is invalid.")
        return None

    def id_value(self, v: _Val, fname: str) -> Any:
        s = v.text.strip()
        if v.func is None and s.isdigit():
            return ("id", int(s))
        if v.func is None and _KEY.match(s):  # ...and a key where an id is expected
            return self.key_value(v, fname)
        self.errors.append(f"The issue key '{v.text}' for field '{fname}' is invalid.")
        return None

    def generic_value(self, v: _Val, fname: str) -> list[str | None]:
        if v.func is not None:
            if v.func == "currentuser" and self.current_user is not None:
                return [self.current_user.lower()]
            values = self.functions(v.func, v.text.split(",") if v.text else []) if self.functions else None
            if values is None:
                self.errors.append(f"Unable to find JQL function '{v.func}()'.")
                return [None]
            return [str(x).lower() for x in values]  # may be empty: then nothing matches `in`
        if fname.lower() == "resolution" and v.text.lower() == "unresolved":
            return [None]  # Jira's special value: no resolution
        return [v.text.lower()]


# --------------------------------------------------------------------------------------------------------------------
# evaluation

_DICT_KEYS = ("name", "id", "key", "value", "accountId", "displayName", "emailAddress")


def _candidates(value: Any) -> list[str]:
    """Strings a field value can be matched against (case-insensitive)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        out: list[str] = []
        for item in value:
            out.extend(_candidates(item))
        return out
    if isinstance(value, dict):
        return [str(value[k]).lower() for k in _DICT_KEYS if value.get(k) is not None]
    return [str(value).lower()]


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, (list, tuple, set, dict)) and len(value) == 0)


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "=":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    return left >= right


class JqlQuery:
    """A compiled JQL query. ``order_by`` is the effective ordering (the default ``[("key", False)]`` when the JQL has
    none; ``explicit_order`` tells which). ``project_refs``/``key_refs`` are the project and issue-key literals the
    query names, so the app can answer Jira's "does not exist" errors (see ``validate``)."""

    def __init__(self, text: str, where: Any, order_by: list[tuple[str, bool]], explicit_order: bool,
                 project_refs: list[str], key_refs: list[str]):
        self.text = text
        self._where = where
        self.order_by = order_by
        self.explicit_order = explicit_order
        self.project_refs = project_refs
        self.key_refs = key_refs

    def __repr__(self) -> str:
        return f"JqlQuery({self.text!r})"

    # ---- existence checks (Jira answers these as 400s) ----
    def validate(self, project_exists: Callable[[str], bool] | None = None,
                 issue_key_exists: Callable[[str], bool] | None = None) -> None:
        msgs: list[str] = []
        if project_exists is not None:
            for ref in dict.fromkeys(self.project_refs):
                if not project_exists(ref):
                    msgs.append(f"The value '{ref}' does not exist for the field 'project'.")
        if issue_key_exists is not None:
            for key in dict.fromkeys(self.key_refs):
                if not issue_key_exists(key):
                    msgs.append(f"An issue with key '{key}' does not exist for field 'key'.")
        if msgs:
            raise JqlError(msgs)

    # ---- matching ----
    def matches(self, issue: Any) -> bool:
        return self._eval(self._where, issue)

    def filter(self, issues: Iterable[Any]) -> list[Any]:
        return [i for i in issues if self.matches(i)]

    def _eval(self, node: Any, issue: Any) -> bool:
        if isinstance(node, _And):
            return all(self._eval(c, issue) for c in node.children)
        if isinstance(node, _Or):
            return any(self._eval(c, issue) for c in node.children)
        if isinstance(node, _Not):
            return not self._eval(node.child, issue)
        return self._clause(node, issue)

    def _clause(self, c: _Clause, issue: Any) -> bool:
        f, op, vals = c.field, c.op, c.values
        if f in _DATE_FIELDS:
            ts = getattr(issue, f)
            if op == "is":
                return ts is None
            if op == "is not":
                return ts is not None
            if ts is None:
                return False
            left = _epoch_minute(ts)
            if op == "in":
                return any(v is not None and left == v for v in vals)
            if op == "not in":
                return all(v is not None and left != v for v in vals)
            return vals[0] is not None and _compare(op, left, vals[0])
        if f == "project":
            if op == "is":
                return False
            if op == "is not":
                return True
            mine = (str(issue.project_key).upper(), str(issue.project_id))
            hit = any(v in mine for v in vals if v is not None)
            return hit if op in ("=", "in") else not hit
        if f in _ID_FIELDS:
            return self._id_clause(op, vals, issue)
        value = issue.field(f)
        if op == "is":
            return _is_empty(value)
        if op == "is not":
            return not _is_empty(value)
        cands = _candidates(value)
        want_empty = any(v is None for v in vals)
        hit = any(v in cands for v in vals if v is not None) or (want_empty and _is_empty(value))
        if op in ("=", "in"):
            return hit
        # != / NOT IN never match an empty field (Jira semantics) unless EMPTY is excluded explicitly
        if _is_empty(value):
            return False
        return not hit

    @staticmethod
    def _id_clause(op: str, vals: list[Any], issue: Any) -> bool:
        number = _issue_number(issue.key)

        def eq(v: Any) -> bool:
            if v is None:
                return False
            if v[0] == "id":
                return int(issue.id) == v[1]
            return str(issue.project_key).upper() == v[1] and number == v[2]

        if op in ("=", "in"):
            return any(eq(v) for v in vals)
        if op in ("!=", "not in"):
            return not any(eq(v) for v in vals)
        v = vals[0]
        if v is None:
            return False
        if v[0] == "id":
            return _compare(op, int(issue.id), v[1])
        # key ranges only compare within the key's project, as Jira does
        return str(issue.project_key).upper() == v[1] and _compare(op, number, v[2])

    # ---- ordering ----
    def sort(self, issues: Iterable[Any]) -> list[Any]:
        out = sorted(issues, key=lambda i: int(i.id))  # deterministic tie-break: id ascending
        for fname, asc in reversed(self.order_by):  # stable multi-pass sort, least significant key first
            out.sort(key=_sort_key(fname), reverse=not asc)
        return out


def _sort_key(fname: str) -> Callable[[Any], Any]:
    if fname in _DATE_FIELDS:
        return lambda i: getattr(i, fname).timestamp()
    if fname == "id":
        return lambda i: int(i.id)
    if fname == "project":
        return lambda i: str(i.project_key).upper()
    if fname == "rank":  # Jira's LexoRank string when the issue has one, else creation order
        return lambda i: (str(i.field("rank") or ""), int(i.id))
    if fname == "key":
        return lambda i: (str(i.project_key).upper(), _issue_number(i.key))
    # any other field: its first matchable string (name/id/...), empty values first
    return lambda i: (_candidates(i.field(fname)) or [""])[0]


def compile_jql(text: str, tz: ZoneInfo, now: datetime | None = None, *,
                current_user: str | None = None,
                functions: Callable[[str, list[str]], list[Any] | None] | None = None) -> JqlQuery:
    """Parse ``text``; raise JqlError (malformed) or UnboundedJqlError (no restriction). ``now`` (aware) anchors
    relative dates such as ``-1d`` (default: the real clock); ``tz`` is the caller's time zone for date literals."""
    if now is None:
        now = datetime.now(timezone.utc)
    elif now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    parser = _Parser(text or "", tz, now, current_user, functions)
    where, order, explicit = parser.parse()
    if where is None:
        raise UnboundedJqlError()
    if not explicit:
        order = [("key", False)]
    return JqlQuery(text, where, order, explicit, parser.project_refs, parser.key_refs)
