"""The tenant's custom fields: a catalogue of hundreds of fields of every type Jira has, which projects' issues carry
which (contexts), and each issue's values with the changelog items their changes write.

Real sites have hundreds of custom fields and each issue carries every field of its project's context -- 30 to 50
`customfield_*` keys, most of them null. Here each field has a kind (KINDS: Jira's custom type key, schema type and
items), a fill rate (how often an issue has a value), and a context: the fields every project has (Jira Software's,
Advanced Roadmaps', the development panel's, and a few global ones admins made), a sample of the company-managed
pool per company-managed project, and fields of a team-managed project's own (`scope: PROJECT`).

Values are compact python values (option indexes, user indexes, epoch ms ...), generated per issue from (seed, issue
number) like the rest of the issue; render.py turns them into Jira's JSON and change_item() into changelog items.
"""

from __future__ import annotations

import random
from typing import Any

from .timefmt import fmt_date, fmt_ms, fmt_user_date, fmt_user_datetime

SYS = "com.atlassian.jira.plugin.system.customfieldtypes:"
GH = "com.pyxis.greenhopper.jira:"

# kind -> (custom type key, schema type, schema items)
KINDS: dict[str, tuple[str, str, str | None]] = {
    "float": (SYS + "float", "number", None),
    "datepicker": (SYS + "datepicker", "date", None),
    "datetime": (SYS + "datetime", "datetime", None),
    "textfield": (SYS + "textfield", "string", None),
    "textarea": (SYS + "textarea", "string", None),
    "url": (SYS + "url", "string", None),
    "select": (SYS + "select", "option", None),
    "radiobuttons": (SYS + "radiobuttons", "option", None),
    "multiselect": (SYS + "multiselect", "array", "option"),
    "multicheckboxes": (SYS + "multicheckboxes", "array", "option"),
    "labels": (SYS + "labels", "array", "string"),
    "version": (SYS + "version", "version", None),
    "multiversion": (SYS + "multiversion", "array", "version"),
    "grouppicker": (SYS + "grouppicker", "group", None),
    "multigrouppicker": (SYS + "multigrouppicker", "array", "group"),
    "userpicker": (SYS + "userpicker", "user", None),
    "multiuserpicker": (SYS + "multiuserpicker", "array", "user"),
    "cascadingselect": (SYS + "cascadingselect", "option-with-child", None),
    "project": (SYS + "project", "project", None),
    "readonlyfield": (SYS + "readonlyfield", "string", None),
    # Jira Software, Advanced Roadmaps and the development panel
    "sprint": (GH + "gh-sprint", "array", "json"),
    "rank": (GH + "gh-lexo-rank", "any", None),
    "story_points": (GH + "jsw-story-points", "number", None),
    "epic_link": (GH + "gh-epic-link", "any", None),
    "epic_name": (GH + "gh-epic-label", "string", None),
    "epic_status": (GH + "gh-epic-status", "option", None),
    "epic_color": (GH + "gh-epic-color", "string", None),
    "issue_color": (GH + "jsw-issue-color", "string", None),
    "team": ("com.atlassian.teams:rm-teams-custom-field-team", "any", None),
    "parent_link": ("com.atlassian.jpo:jpo-custom-field-parent", "any", None),
    "target_start": ("com.atlassian.jpo:jpo-custom-field-baseline-start", "date", None),
    "target_end": ("com.atlassian.jpo:jpo-custom-field-baseline-end", "date", None),
    "devsummary": ("com.atlassian.jira.plugins.jira-development-integration-plugin:devsummarycf", "any", None),
}
# the types an admin picks when creating a field
GENERIC = ["float", "datepicker", "datetime", "textfield", "textarea", "url", "select", "radiobuttons",
           "multiselect", "multicheckboxes", "labels", "version", "multiversion", "grouppicker", "multigrouppicker",
           "userpicker", "multiuserpicker", "cascadingselect", "project", "readonlyfield"]
GENERIC_WEIGHTS = [10, 8, 4, 14, 8, 3, 14, 4, 7, 5, 4, 2, 2, 1, 1, 6, 3, 2, 1, 1]
DATE_KINDS = {"datepicker", "target_start", "target_end"}
OPTION_KINDS = {"select", "radiobuttons", "epic_status"}
MULTI_OPTION_KINDS = {"multiselect", "multicheckboxes"}
# what the tenant's own edits (the changelog walk, /__sim/advance) may change
EDITABLE = set(GENERIC) - {"readonlyfield"} | {"story_points", "team", "target_start", "target_end"}

# The fields a new Cloud site has, with the ids Jira gives them: (number, name, kind, options, everywhere).
# `everywhere` False: only company-managed projects (Epic Link and friends, classic Story Points).
SITE_FIELDS = [
    (10000, "Development", "devsummary", None, True),
    (10001, "Team", "team", None, True),
    (10011, "Epic Name", "epic_name", None, False),
    (10012, "Epic Status", "epic_status", [("10000", "To Do"), ("10001", "In Progress"), ("10002", "Done")], False),
    (10013, "Epic Colour", "epic_color", None, False),
    (10014, "Epic Link", "epic_link", None, False),
    (10015, "Start date", "datepicker", None, True),
    (10016, "Story point estimate", "story_points", None, True),
    (10017, "Issue color", "issue_color", None, True),
    (10018, "Parent Link", "parent_link", None, True),
    (10019, "Rank", "rank", None, True),
    (10020, "Sprint", "sprint", None, True),
    (10021, "Flagged", "multicheckboxes", [("10019", "Impediment")], True),
    (10022, "Target start", "target_start", None, True),
    (10023, "Target end", "target_end", None, True),
    (10024, "Story Points", "float", None, False),
]
SPRINT_FIELD, FLAGGED_FIELD, RANK_FIELD, ESTIMATE_FIELD = (
    "customfield_10020", "customfield_10021", "customfield_10019", "customfield_10016")
# fill rates of the site fields that take a generated value (the rest are derived or follow the issue type)
SITE_FILL = {10001: 0.3, 10015: 0.25, 10021: 0.05, 10022: 0.08, 10023: 0.08, 10024: 0.25}

# per scale: (custom fields in all, global fields every project has, a team-managed project's own fields (min, max),
# company-managed pool fields per company-managed project (min, max))
SIZES = {"demo": (50, 4, (6, 9), (8, 12)), "standard": (300, 6, (14, 24), (10, 24)),
         "large": (500, 6, (13, 20), (10, 24))}

FAMILIES: dict[str, list[str]] = {
    "float": ["Cost (USD)", "Business value", "Effort (days)", "Risk score", "Revenue impact", "Customers affected",
              "Confidence", "Budget", "Hours saved", "Priority score"],
    "datepicker": ["Target date", "Launch date", "Review date", "Go-live date", "Contract end", "QA due",
                   "Planned start", "Decision date"],
    "datetime": ["Deployed at", "Incident start", "Incident end", "Approved at", "Last contacted", "Escalated at"],
    "textfield": ["Root cause", "Customer name", "External ID", "Release note", "Ticket reference", "Vendor",
                  "Account manager", "Build number", "Hostname", "Commit"],
    "textarea": ["Acceptance criteria", "Steps to reproduce", "Impact", "Workaround", "Test plan", "Rollback plan",
                 "Business justification"],
    "url": ["Design link", "Pull request", "Runbook", "Support ticket", "Spec document", "Dashboard link"],
    "select": ["Severity", "Environment", "Region", "Customer tier", "Product area", "Squad", "Channel", "Origin",
               "Work category", "Release train"],
    "radiobuttons": ["Regression", "Customer facing", "Needs docs", "Security review", "Breaking change"],
    "multiselect": ["Platforms", "Browsers", "Regions affected", "Markets", "Integrations"],
    "multicheckboxes": ["Checklist", "Release stages", "Approvals", "Impacted teams"],
    "labels": ["Customer labels", "Tech tags", "Keywords", "Themes"],
    "version": ["Target release", "Found in build"],
    "multiversion": ["Backport to", "Tested in"],
    "grouppicker": ["Owning group", "Approver group"],
    "multigrouppicker": ["Notify groups", "Visible to groups"],
    "userpicker": ["Reviewer", "QA owner", "Product owner", "Tech lead", "Approver", "Escalation owner"],
    "multiuserpicker": ["Stakeholders", "Contributors", "Approvers", "Subject matter experts"],
    "cascadingselect": ["Category", "Location", "Service"],
    "project": ["Related project", "Requesting project"],
    "readonlyfield": ["Legacy ID", "Imported from", "Sync status"],
}
OPTION_WORDS = {
    "Severity": ["Sev 1", "Sev 2", "Sev 3", "Sev 4"], "Environment": ["Production", "Staging", "Development", "QA"],
    "Region": ["EMEA", "APAC", "AMER", "LATAM"], "Customer tier": ["Enterprise", "Business", "Standard", "Free"],
    "Product area": ["Checkout", "Search", "Accounts", "Reporting", "Mobile app"],
    "Squad": ["Red", "Blue", "Green", "Platform Guild"], "Channel": ["Email", "Chat", "Phone", "Portal"],
    "Origin": ["Customer", "Internal", "Monitoring", "Audit"], "Work category": ["Feature", "Maintenance", "Support"],
    "Release train": ["Train A", "Train B", "Train C"], "Regression": ["Yes", "No"],
    "Customer facing": ["Yes", "No"], "Needs docs": ["Yes", "No", "Not sure"], "Security review": ["Required",
                                                                                                 "Not required"],
    "Breaking change": ["Yes", "No"], "Platforms": ["iOS", "Android", "Web", "Desktop"],
    "Browsers": ["Chrome", "Firefox", "Safari", "Edge"], "Regions affected": ["EU", "US", "UK", "AU", "JP"],
    "Markets": ["DACH", "Nordics", "Benelux", "Iberia", "ANZ"],
    "Integrations": ["Slack", "GitHub", "Salesforce", "Zendesk"],
    "Checklist": ["Designed", "Reviewed", "Tested", "Documented"], "Release stages": ["Alpha", "Beta", "GA"],
    "Approvals": ["Legal", "Security", "Finance"], "Impacted teams": ["Support", "Sales", "Ops", "Finance"],
}
GENERIC_OPTIONS = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Other"]
CASCADE = [("Hardware", ["Laptop", "Monitor", "Phone"]), ("Software", ["License", "Install", "Upgrade"]),
           ("Access", ["VPN", "SSO", "Badge"]), ("Facilities", ["Desk", "Parking"])]
TEXT_WORDS = ["config drift", "race condition", "expired certificate", "missing index", "vendor outage",
              "legacy import", "timeout in the gateway", "stale cache", "wrong locale", "quota exceeded"]
TAGS = ["acme-corp", "globex", "initech", "umbrella", "hooli", "kafka", "postgres", "react", "terraform", "ios"]
TEAMS = ["Platform Guild", "Team Red", "Team Blue", "Payments Squad", "Mobile Crew", "Data Wranglers", "Core Infra",
         "Growth Pod", "Search Team", "Identity Team", "Release Crew", "Design Systems"]
ISSUE_COLORS = ["purple", "blue", "green", "teal", "yellow", "orange", "grey", "dark_purple", "dark_blue"]
FILL_RATES = [0.02, 0.04, 0.06, 0.1, 0.15, 0.2, 0.3, 0.45, 0.6, 0.8]
FILL_WEIGHTS = [14, 14, 14, 14, 12, 10, 8, 6, 4, 2]
FIBONACCI = (1.0, 2.0, 3.0, 5.0, 8.0, 13.0)


class CustomField:
    __slots__ = ("num", "id", "name", "orig_name", "kind", "options", "children", "fill", "scope", "points")

    def schema(self) -> dict:
        ctype, typ, items = KINDS[self.kind]
        out: dict[str, Any] = {"type": typ}
        if items:
            out["items"] = items
        out["custom"] = ctype
        out["customId"] = self.num
        return out


class Catalogue:
    """The custom fields of one tenant and the context of each project."""

    def __init__(self) -> None:
        self.fields: list[CustomField] = []
        self.by_id: dict[str, CustomField] = {}
        self.context: dict[int, tuple[str, ...]] = {}       # project idx -> its issues' custom field ids, in id order
        self.context_set: dict[int, frozenset[str]] = {}
        self.editable: dict[int, tuple[CustomField, ...]] = {}
        self.teams: list[tuple[str, str]] = []              # (team id, name) for the Team field
        self.version = 0                                    # bumped by every rename
        self._site: list[tuple[CustomField, bool]] = []
        self._globals: list[str] = []
        self._pool: list[str] = []
        self._picks = (8, 12)

    def rename(self, fid: str, name: str) -> None:
        self.by_id[fid].name = name
        self.version += 1

    def set_context(self, pidx: int, ids: set[str]) -> None:
        order = tuple(sorted(ids, key=lambda f: self.by_id[f].num))
        self.context[pidx] = order
        self.context_set[pidx] = frozenset(order)
        self.editable[pidx] = tuple(self.by_id[f] for f in order if self.by_id[f].kind in EDITABLE)

    def add_project(self, p, r: random.Random) -> None:
        """The context of a project created while the simulation runs: the site's fields, the global ones and (if
        company-managed) a sample of the pool."""
        ids = {fd.id for fd, everywhere in self._site if everywhere or not p.simplified} | set(self._globals)
        if not p.simplified:
            ids |= set(r.sample(self._pool, min(len(self._pool), r.randint(*self._picks))))
        self.set_context(p.idx, ids)


def _field(num: int, name: str, kind: str, fill: float, scope: int | None = None) -> CustomField:
    fd = CustomField()
    fd.num, fd.id, fd.name, fd.orig_name, fd.kind = num, f"customfield_{num}", name, name, kind
    fd.options, fd.children, fd.fill, fd.scope = [], {}, fill, scope
    fd.points = name in ("Story Points", "Story point estimate")
    return fd


def build_catalogue(r: random.Random, scale: str, projects: list, project_words: list[str]) -> Catalogue:
    """The catalogue of a tenant: deterministic from the seed's random stream `r`."""
    total, n_global, tm_own, picks = SIZES[scale]
    cat = Catalogue()
    cat._picks = picks
    cat.teams = [(_uuid(r), name) for name in TEAMS[: 4 if scale == "demo" else len(TEAMS)]]
    seq = [10100]

    def options_for(fd: CustomField, base: str) -> None:
        if fd.kind == "cascadingselect":
            for parent, kids in CASCADE[: r.randint(2, len(CASCADE))]:
                pid = str(seq[0])
                seq[0] += 1
                fd.options.append((pid, parent))
                fd.children[pid] = []
                for kid in kids:
                    fd.children[pid].append((str(seq[0]), kid))
                    seq[0] += 1
        elif fd.kind in OPTION_KINDS or fd.kind in MULTI_OPTION_KINDS:
            words = OPTION_WORDS.get(base) or GENERIC_OPTIONS[: r.randint(3, len(GENERIC_OPTIONS))]
            for w in words:
                fd.options.append((str(seq[0]), w))
                seq[0] += 1

    for num, name, kind, opts, everywhere in SITE_FIELDS:
        fd = _field(num, name, kind, SITE_FILL.get(num, 0.0))
        fd.options = list(opts or [])
        cat.fields.append(fd)
        cat._site.append((fd, everywhere))
    tm_projects = [p for p in projects if p.simplified]
    own = {p.idx: r.randint(*tm_own) for p in tm_projects}
    n_pool = max(len(GENERIC), total - len(SITE_FIELDS) - n_global - sum(own.values()))
    # the kinds of the generated fields: every generic kind once first (every tenant has one of each), then by weight
    n_gen = n_global + n_pool + sum(own.values())
    kinds = list(GENERIC) + r.choices(GENERIC, weights=GENERIC_WEIGHTS, k=max(0, n_gen - len(GENERIC)))
    first_of_kind = kinds[: len(GENERIC)]
    rest = kinds[len(GENERIC):]
    r.shuffle(rest)
    # who gets which: the first-of-kind fields go to the global set and the pool, so each is on some live issue
    slots: list[tuple[str, int | None]] = [("global", None)] * n_global + [("pool", None)] * n_pool
    for p in tm_projects:
        slots += [("own", p.idx)] * own[p.idx]
    order = list(range(len(slots)))
    r.shuffle(order)                       # ids follow creation order, and fields were created over the years
    kind_of = {}
    company = [k for k in order if slots[k][0] != "own"]
    for k, kind in zip(company, first_of_kind):
        kind_of[k] = kind
    leftovers = iter(rest)
    used: dict[str, int] = {}
    num = 10029
    generated: list[tuple[CustomField, str, int | None]] = []
    for k in order:
        kind = kind_of.get(k) or next(leftovers)
        where, pidx = slots[k]
        num += 1 + (r.randint(1, 4) if r.random() < 0.08 else 0)     # gaps: fields deleted since
        bases = FAMILIES[kind]
        base = bases[used.get(kind, 0) % len(bases)] if where != "own" else r.choice(bases)
        if where == "own":
            name = base                  # a team-managed project names its fields freely: names repeat across projects
        else:
            n_used = used.get(kind, 0)
            used[kind] = n_used + 1
            name = base if n_used < len(bases) else \
                f"{project_words[(n_used // len(bases) + num) % len(project_words)]} {base[0].lower()}{base[1:]}"
        fd = _field(num, name, kind, r.choices(FILL_RATES, weights=FILL_WEIGHTS)[0], pidx)
        options_for(fd, base)
        generated.append((fd, where, pidx))
    cat.fields.extend(fd for fd, _, _ in generated)
    cat.fields.sort(key=lambda f: f.num)
    cat.by_id = {fd.id: fd for fd in cat.fields}
    # names must be unique among the site's company-managed fields (Jira warns on duplicates; admins rename)
    seen: set[str] = {fd.name for fd, _ in cat._site}
    for fd, where, _ in generated:
        if where != "own":
            while fd.name in seen:
                fd.name = fd.orig_name = fd.name + " (2)"
            seen.add(fd.name)
    cat._globals = [fd.id for fd, where, _ in generated if where == "global"]
    cat._pool = [fd.id for fd, where, _ in generated if where == "pool"]
    classic_live = [p for p in projects if not p.simplified and p.status == "live"]
    must_place = [fd.id for k, (fd, where, _) in zip(order, generated) if k in kind_of and where == "pool"]
    for p in projects:
        pr = random.Random(f"{r.random()}:{p.idx}")
        ids = {fd.id for fd, everywhere in cat._site if everywhere or not p.simplified} | set(cat._globals)
        if p.simplified:
            ids |= {fd.id for fd, where, pidx in generated if where == "own" and pidx == p.idx}
        else:
            ids |= set(pr.sample(cat._pool, min(len(cat._pool), pr.randint(*picks))))
        cat.set_context(p.idx, ids)
    # each first-of-kind pool field on at least one live company-managed project, so every type has values
    for k, fid in enumerate(must_place):
        if classic_live and not any(fid in cat.context_set[p.idx] for p in classic_live):
            p = classic_live[k % len(classic_live)]
            cat.set_context(p.idx, set(cat.context[p.idx]) | {fid})
    return cat


def _uuid(r: random.Random) -> str:
    h = "%032x" % r.getrandbits(128)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


# ---- values --------------------------------------------------------------------------------------------------

def new_value(fd: CustomField, r: random.Random, *, created: int, people: list[int], n_groups: int,
              n_versions: int, projects: list[int], n_teams: int) -> Any:
    """A fresh value of the field's kind (never None)."""
    k = fd.kind
    if k in ("float", "story_points"):
        if fd.points:
            return r.choice(FIBONACCI)
        return float(r.randint(1, 100)) if r.random() < 0.6 else round(r.uniform(0.5, 25000), 2)
    if k in DATE_KINDS:
        ms = created + r.randint(-5, 90) * 86_400_000
        return ms - ms % 86_400_000
    if k == "datetime":
        ms = created + r.randrange(60 * 86_400_000)
        return ms - ms % 60_000
    if k == "textfield":
        return r.choice(TEXT_WORDS) if r.random() < 0.6 else f"REF-{r.randint(100, 99999)}"
    if k == "textarea":
        then = r.choice(("alert", "retry", "roll back"))
        return f"* Given {r.choice(TEXT_WORDS)}\n* When it happens again\n* Then we {then}"
    if k == "url":
        return f"https://{r.choice(('docs', 'github', 'figma', 'wiki'))}.example.com/{r.randint(100, 99999)}"
    if k in OPTION_KINDS:
        return r.randrange(len(fd.options))
    if k in MULTI_OPTION_KINDS:
        return tuple(sorted(r.sample(range(len(fd.options)), r.randint(1, min(3, len(fd.options))))))
    if k == "labels":
        return tuple(sorted(r.sample(TAGS, r.randint(1, 3))))
    if k == "version":
        return r.randrange(n_versions) if n_versions else None
    if k == "multiversion":
        return tuple(sorted(r.sample(range(n_versions), r.randint(1, min(2, n_versions))))) if n_versions else None
    if k == "grouppicker":
        return r.randrange(n_groups)
    if k == "multigrouppicker":
        return tuple(sorted(r.sample(range(n_groups), min(n_groups, r.randint(1, 3)))))
    if k == "userpicker":
        return r.choice(people)
    if k == "multiuserpicker":
        return tuple(sorted(r.sample(people, min(len(people), r.randint(1, 4)))))
    if k == "cascadingselect":
        pi = r.randrange(len(fd.options))
        kids = fd.children[fd.options[pi][0]]
        return (pi, r.randrange(len(kids)) if r.random() < 0.8 else -1)
    if k == "project":
        return r.choice(projects)
    if k == "readonlyfield":
        return f"LEGACY-{r.randint(1000, 99999)}"
    if k == "team":
        return r.randrange(n_teams)
    raise ValueError(f"no value for a {k} field")


# ---- changelog items ---------------------------------------------------------------------------------------------

def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def change_repr(fd: CustomField, v: Any, t, p) -> tuple[Any, Any]:
    """(from/to, fromString/toString) of a value in a changelog item; (None, None) for no value."""
    if v is None:
        return None, None
    k = fd.kind
    if k in ("float", "story_points"):
        return None, _num(v)
    if k in DATE_KINDS:
        return fmt_date(v), fmt_user_date(v)
    if k == "datetime":
        return fmt_ms(v), fmt_user_datetime(v)
    if k in ("textfield", "textarea", "url", "readonlyfield"):
        return None, v
    if k in OPTION_KINDS:
        o = fd.options[v]
        return o[0], o[1]
    if k in MULTI_OPTION_KINDS:
        return "[" + ", ".join(fd.options[i][0] for i in v) + "]", ", ".join(fd.options[i][1] for i in v)
    if k == "labels":
        return None, " ".join(v)
    if k == "version":
        ver = p.versions[v]
        return str(ver.id), ver.name
    if k == "multiversion":
        vs = [p.versions[i] for i in v]
        return "[" + ", ".join(str(x.id) for x in vs) + "]", ", ".join(x.name for x in vs)
    if k == "grouppicker":
        return None, t.groups[v].name
    if k == "multigrouppicker":
        return None, ", ".join(t.groups[i].name for i in v)
    if k == "userpicker":
        u = t.users[v]
        return u.account_id, u.name
    if k == "multiuserpicker":
        us = [t.users[i] for i in v]
        return "[" + ", ".join(u.account_id for u in us) + "]", ", ".join(u.name for u in us)
    if k == "cascadingselect":
        parent = fd.options[v[0]]
        s = f"Parent values: {parent[1]}({parent[0]})"
        if v[1] >= 0:
            child = fd.children[parent[0]][v[1]]
            s += f"Level 1 values: {child[1]}({child[0]})"
        return None, s
    if k == "project":
        q = t.projects[v]
        return str(q.id), q.name
    if k == "team":
        team = t.cf.teams[v]
        return team[0], team[1]
    raise ValueError(f"no changelog form for a {k} field")


def change_item(fd: CustomField, name: str, old: Any, new: Any, t, p) -> dict:
    """The changelog item Jira writes when a custom field changes: fieldtype custom, the field's name at the time."""
    frm, frm_s = change_repr(fd, old, t, p)
    to, to_s = change_repr(fd, new, t, p)
    return {"field": name, "fieldtype": "custom", "fieldId": fd.id, "from": frm, "fromString": frm_s, "to": to,
            "toString": to_s}


def sprint_item(before: list, after: list) -> dict:
    """The Sprint field's changelog item: ids and names comma-separated (an issue carried over to the next sprint)."""
    return {"field": "Sprint", "fieldtype": "custom", "fieldId": SPRINT_FIELD,
            "from": ", ".join(str(s.id) for s in before), "fromString": ", ".join(s.name for s in before),
            "to": ", ".join(str(s.id) for s in after), "toString": ", ".join(s.name for s in after)}


def is_multi(fd: CustomField) -> bool:
    """Whether the field holds a set of values (its schema type is `array`)."""
    return KINDS[fd.kind][1] == "array"


def change_elements(fd: CustomField, v: Any, t, p) -> list[tuple[str, str]]:
    """The elements of a multi-value field's value as its changelog items name them, (id, display) each: options by
    id, versions by id, users by account id; labels and groups by name (their items carry names only)."""
    if v is None:
        return []
    k = fd.kind
    if k in MULTI_OPTION_KINDS:
        return [fd.options[i] for i in v]
    if k == "labels":
        return [(x, x) for x in v]
    if k == "multiversion":
        return [(str(p.versions[i].id), p.versions[i].name) for i in v]
    if k == "multigrouppicker":
        return [(t.groups[i].name, t.groups[i].name) for i in v]
    if k == "multiuserpicker":
        return [(t.users[i].account_id, t.users[i].name) for i in v]
    if k == "sprint":
        return [(str(s), t.sprints[s].name) for s in v]
    raise ValueError(f"no elements of a {k} field")
